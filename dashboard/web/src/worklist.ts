import { button, h, moveInto, reconcile, srOnly } from './dom.ts'
import { watchEngagement } from './engagement.ts'
import { LABELS, VITAL_COLUMNS } from './format.ts'
import { pausedOrderLabel, rankChanges } from './freeze.ts'
import type { Prefs } from './prefs.ts'
import {
  type Attention,
  attentionOf,
  compareAttention,
  groupByPatient,
  placeMoved,
  STALE_MS,
} from './rank.ts'
import type { AlertItem, PatientRow, Store } from './store.ts'
import { displayUnit, unitLabel } from './units.ts'
import { buildRow, patchRow } from './worklist-row.ts'

/** A pointer resting on the worklist this long stops pausing its order (engagement.ts). */
export const POINTER_IDLE_MS = 15_000

// The worklist: who needs attention now. An ARIA table laid out as CSS grid rows of fixed height, rows
// kept by key and patched in place (worklist-row.ts), so a stream of readings rewrites only the cells
// that changed (no layout jumps, no lost focus). Not a <table>: rows can be grouped in blocks with
// `content-visibility: auto` (placeInBlocks), so the browser skips layout and paint of the blocks off
// screen (a 1,000-row <table> re-lays out every row on each update).

type Row = { p: PatientRow; at: Attention }
const SHORT: Record<string, string> = {
  'blood-pressure': 'BP',
  'heart-rate': 'HR',
  'respiratory-rate': 'RR',
  'body-temperature': 'Temp',
}

export function createWorklist(root: HTMLElement, store: Store, prefs: () => Prefs, onComplete?: () => void) {
  const caption = h('p', { id: 'wl-caption', class: 'caption' })
  const headRow = h('div', { role: 'row', class: 'wl-row' })
  const tbody = h('div', { role: 'rowgroup', class: 'wl-body' })
  const table = h(
    'div',
    {
      role: 'table',
      class: 'worklist-table',
      id: 'worklist',
      'aria-labelledby': 'wl-title',
      'aria-describedby': 'wl-caption',
    },
    h('div', { role: 'rowgroup', class: 'wl-head' }, headRow),
    tbody,
  )
  // While the user works in the worklist (pointer over it, focus in it) rows are patched in place but do
  // not move (freeze.ts): the new order waits until they leave, or ask for it, and a reserved line says so.
  const showOrder = button('Show new order', () => applyOrder())
  const pausedText = h('span')
  const paused = h('p', { class: 'wl-paused', role: 'status' }, pausedText, showOrder)
  showOrder.hidden = true
  root.append(h('h2', { id: 'wl-title' }, 'Worklist'), caption, paused, table)
  let releasing = false
  const engagement = watchEngagement(
    root,
    (engaged) => {
      if (engaged || releasing) return
      releasing = true
      requestAnimationFrame(() => {
        releasing = false
        render()
      })
    },
    { pointerIdleMs: POINTER_IDLE_MS },
  )
  const cache = new Map<string, { el: HTMLElement; sig: string }>()
  let headSig = ''
  // Progressive first render: the most urgent rows (a screenful and more) in the first frame, the rest in
  // chunks on the following frames, so no single task blocks the page and the top of the list shows at once.
  let shown = 0
  let more = false
  // Per patient: its attention and row signature, recomputed only when the patient changed (store.rev) or
  // when time alone changes what the row shows (`until`: a reading turning 24 h old).
  const memo = new Map<string, Memo>()
  let memoKey = ''
  // The order of the last sort: kept while no patient's rank changed, so a reading never re-sorts 1,000
  // rows, and rows never move unless someone's attention did.
  let order: string[] = []
  // The order on screen, and whether `order` may differ from it (a reorder held back while engaged).
  let displayed: string[] = []
  let behind = false
  /** Every row is on screen: only then may the order freeze (the first render adds rows in chunks). */
  let settled = false

  function renderHead(pr: Prefs) {
    const sig = `${pr.glucose}|${pr.temperature}`
    if (sig === headSig) return
    headSig = sig
    headRow.replaceChildren(
      h('div', { role: 'columnheader', class: 'c-patient' }, 'Patient'),
      h('div', { role: 'columnheader', class: 'c-attn' }, 'Attention'),
      ...VITAL_COLUMNS.map((c) =>
        h(
          'div',
          { role: 'columnheader', 'data-type': c },
          h('span', { 'aria-hidden': 'true' }, SHORT[c] ?? LABELS[c]),
          srOnly(`${LABELS[c]} in`),
          h('span', { class: 'unit' }, headUnit(c, pr)),
        ),
      ),
    )
  }

  /**
   * Refresh the memo. Returns the patients whose row changed, and which of them may have changed place
   * (`resort` when the whole list must be sorted again: a new load, other units, a new day).
   */
  function update(pr: Prefs, now: number) {
    // Short times read "14:05" today and "26 Nov 14:05" before: every row is recomputed after midnight.
    const key = `${store.generation}|${pr.glucose}|${pr.temperature}|${new Date(now).toDateString()}`
    let resort = false
    if (key !== memoKey) {
      memo.clear()
      memoKey = key
      resort = true
    }
    const changed: string[] = []
    const moved: string[] = []
    let byPatient: Map<string, AlertItem[]> | undefined
    for (const p of store.patients.values()) {
      const rev = store.rev.get(p.id) ?? 0
      const m = memo.get(p.id)
      if (m && m.rev === rev && now < m.until) continue
      byPatient ??= groupByPatient(store.alerts.values())
      const at = attentionOf(p, byPatient.get(p.id) ?? [], now)
      const next = remember(p, at, { generation: store.generation, rev }, pr, now)
      if (!m) resort = true
      else if (next.rank !== m.rank) moved.push(p.id)
      changed.push(p.id)
      memo.set(p.id, next)
    }
    return { resort: resort || memo.size !== order.length || moved.length > 32, moved, changed }
  }

  /** Put the list in order: a full sort, or only the few patients whose rank changed. */
  function reorder(u: ReturnType<typeof update>): boolean {
    const row = (id: string) => memo.get(id)!.row
    if (u.resort) {
      order = [...memo.values()]
        .map((m) => m.row)
        .sort(compareAttention)
        .map((r) => r.p.id)
      return true
    }
    if (u.moved.length) order = placeMoved(order, u.moved, (a, b) => compareAttention(row(a), row(b)))
    return u.moved.length > 0
  }

  function render(applyNow = false) {
    const pr = prefs()
    const now = Date.now()
    renderHead(pr)
    const u = update(pr, now)
    const reordered = reorder(u)
    if (reordered) behind = true
    const loaded = shown === order.length && cache.size === order.length
    // Steady state under a stream: nobody changed place and every row is in, so only the rows of the
    // patients that changed are patched (no walk over 1,000 rows).
    if (!behind && loaded) return patchChanged(u.changed, pr, now)
    // Frozen (once every row is in): the rows shown are patched in place, the new order waits.
    if (!applyNow && settled && engagement.engaged()) {
      patchChanged(u.changed, pr, now)
      if (reordered) setPaused(rankChanges(displayed, order))
      return
    }
    setPaused(0)
    behind = false
    const rows = order.map((id) => memo.get(id)!.row)
    setText(caption, `${rows.length} patient${rows.length === 1 ? '' : 's'}, most urgent first`)
    shown = Math.min(rows.length, shown === 0 ? FIRST_ROWS : Math.max(shown, cache.size) + CHUNK_ROWS)
    const complete = shown >= rows.length
    if (table.getAttribute('aria-busy') !== String(!complete))
      table.setAttribute('aria-busy', String(!complete))
    if (!complete && !more) {
      more = true
      requestAnimationFrame(() => {
        more = false
        render()
      })
    }
    const visibleRows = complete ? rows : rows.slice(0, shown)
    reconcile(
      tbody,
      visibleRows,
      (r) => r.p.id,
      (r) => memo.get(r.p.id)!.sig,
      (r) => buildRow(r.p, r.at, pr, now),
      cache,
      (el, r) => patchRow(el, r.p, r.at, pr, now),
      (els) => placeInBlocks(tbody, els),
    )
    displayed = visibleRows.map((r) => r.p.id)
    settled = complete
    if (complete && rows.length) onComplete?.()
  }

  function patchChanged(ids: string[], pr: Prefs, now: number): void {
    for (const id of ids) {
      const entry = cache.get(id)
      const m = memo.get(id)!
      if (!entry || entry.sig === m.sig) continue
      patchRow(entry.el, m.row.p, m.row.at, pr, now)
      entry.sig = m.sig
    }
  }

  function setPaused(changed: number): void {
    setText(pausedText, pausedOrderLabel(changed))
    showOrder.hidden = changed === 0
  }

  /** "Show new order": apply it now, and put focus on the first row (the button goes away). */
  function applyOrder() {
    render(true)
    tbody.querySelector<HTMLElement>('.wl-row a')?.focus({ preventScroll: true })
  }
  return () => render()
}

interface Memo {
  rev: number
  row: Row
  /** What the row shows: reconcile patches the row when it changes. */
  sig: string
  /** What the row's place depends on: the list is re-sorted only when one of these changes. */
  rank: string
  /** When time alone changes the row (a reading turns stale), in ms since the epoch. */
  until: number
}

function remember(
  p: PatientRow,
  at: Attention,
  v: { generation: number; rev: number },
  pr: Prefs,
  now: number,
): Memo {
  // Every reading (of any type: the newest one decides whether the patient is stale) that is not yet
  // 24 h old will change the row when it turns so.
  let until = Number.POSITIVE_INFINITY
  for (const r of Object.values(p.latest)) {
    const staleAt = Date.parse(r.effective) + STALE_MS
    if (staleAt >= now) until = Math.min(until, staleAt + 1)
  }
  // The load generation too: a reload resets every revision to 0, and a row whose new data came only in
  // the reloaded snapshot must still be patched.
  let sig = `${v.generation}.${v.rev}|${p.name}|${p.monitoring}|${at.openRank}.${at.openCount}.${at.news2}.${at.ackCount}.${at.stale}`
  for (const c of VITAL_COLUMNS) {
    const r = p.latest[c]
    if (r) sig += `|${now - Date.parse(r.effective) > STALE_MS}`
  }
  const rank = `${at.openRank}.${at.openCount}.${at.news2}.${at.ackRank}.${at.stale}.${at.stale ? at.lastReadingMs : ''}.${p.monitoring === false}.${p.name}`
  return { rev: v.rev, row: { p, at }, sig: `${sig}|${pr.glucose}${pr.temperature}`, rank, until }
}

function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text
}

/**
 * Rows go into blocks of BLOCK_ROWS, each block a `content-visibility: auto` element of a fixed height,
 * so the browser tracks some 40 blocks instead of 1,000 rows. With one such element per row, a frame in
 * which a new alert moved a patient to the top shifted every row above its old place: the browser then
 * recomputed the intersection of every row with the viewport (to decide which to skip), updated the
 * paint properties of every row and repainted them, and because rows crossed the viewport's edge, ran
 * style, layout and pre-paint a second time in the same frame (trace: 25–48 ms of main-thread CPU per
 * such frame, two layout passes). Each block keeps exactly BLOCK_ROWS rows (a row that rises pushes one
 * row from each block above its old place into the next), so no block changes height, nothing below the
 * visible blocks moves, and the blocks off screen stay skipped.
 */
function placeInBlocks(tbody: HTMLElement, els: HTMLElement[]): void {
  const blocks = tbody.children
  const count = Math.ceil(els.length / BLOCK_ROWS)
  while (blocks.length < count) tbody.append(h('div', { class: 'wl-block' }))
  while (blocks.length > count) tbody.lastElementChild!.remove()
  for (let b = 0; b < count; b++) {
    const block = blocks[b] as HTMLElement
    const rows = els.slice(b * BLOCK_ROWS, (b + 1) * BLOCK_ROWS)
    // The last block, when not full, is never skipped: its placeholder size would be a full block's.
    block.classList.toggle('wl-tail', rows.length < BLOCK_ROWS)
    moveInto(block, rows)
  }
}

export const BLOCK_ROWS = 25
const FIRST_ROWS = 60
const CHUNK_ROWS = 250

function headUnit(type: string, pr: Prefs): string {
  return type === 'steps' ? '' : unitLabel(displayUnit(type, pr))
}
