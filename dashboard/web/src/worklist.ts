import { h, reconcile, srOnly } from './dom.ts'
import { formatReading, LABELS, localTime, SEVERITY_ICON, shortTime, VITAL_COLUMNS } from './format.ts'
import type { Prefs } from './prefs.ts'
import { type Attention, attentionOf, compareAttention, groupByPatient, STALE_MS } from './rank.ts'
import type { PatientRow, Store } from './store.ts'
import { displayUnit, unitLabel } from './units.ts'

// The worklist: who needs attention now. An ARIA table laid out as CSS grid rows of fixed height, rows
// reused by key so a stream of readings rewrites only the rows that changed (no layout jumps, no lost
// focus). Not a <table>: grid rows can use `content-visibility: auto`, so the browser skips layout and
// paint of the rows off screen (a 1,000-row <table> re-lays out every row on each update).

const SEV_NAME = ['none', 'low', 'medium', 'high', 'critical']
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
  root.append(h('h2', { id: 'wl-title' }, 'Worklist'), caption, table)
  const cache = new Map<string, { el: HTMLElement; sig: string }>()
  let headSig = ''
  // Progressive first render: the most urgent rows (a screenful and more) in the first frame, the rest in
  // chunks on the following frames, so no single task blocks the page and the top of the list shows at once.
  let shown = 0
  let more = false
  const memo = new Map<string, { rev: number; row: Row; sig: string }>()
  let memoKey = ''

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

  function render() {
    const pr = prefs()
    const now = Date.now()
    renderHead(pr)
    // Attention and row signatures are recomputed only for patients that changed since the last frame
    // (or when the units, the minute or the whole list changed): 100 updates a second stay cheap.
    const key = `${store.generation}|${pr.glucose}|${pr.temperature}|${Math.floor(now / 60_000)}`
    if (key !== memoKey) {
      memo.clear()
      memoKey = key
    }
    const byPatient = groupByPatient(store.alerts.values())
    const rows: Row[] = []
    for (const p of store.patients.values()) {
      const rev = store.rev.get(p.id) ?? 0
      let m = memo.get(p.id)
      if (!m || m.rev !== rev) {
        const at = attentionOf(p, byPatient.get(p.id) ?? [], now)
        m = { rev, row: { p, at }, sig: signature(p, at, pr, now) }
        memo.set(p.id, m)
      }
      rows.push(m.row)
    }
    rows.sort(compareAttention)
    caption.textContent = `${rows.length} patient${rows.length === 1 ? '' : 's'}, most urgent first`
    shown = Math.min(rows.length, shown === 0 ? FIRST_ROWS : Math.max(shown, cache.size) + CHUNK_ROWS)
    const complete = shown >= rows.length
    table.setAttribute('aria-busy', String(!complete))
    if (!complete && !more) {
      more = true
      requestAnimationFrame(() => {
        more = false
        render()
      })
    }
    reconcile(
      tbody,
      complete ? rows : rows.slice(0, shown),
      (r) => r.p.id,
      (r) => memo.get(r.p.id)!.sig,
      (r) => buildRow(r.p, r.at, pr, now),
      cache,
    )
    if (complete && rows.length) onComplete?.()
  }
  return render
}

const FIRST_ROWS = 60
const CHUNK_ROWS = 250

function headUnit(type: string, pr: Prefs): string {
  return type === 'steps' ? '' : unitLabel(displayUnit(type, pr))
}

function signature(p: PatientRow, at: Attention, pr: Prefs, now: number): string {
  let s = `${p.name}|${p.monitoring}|${at.openRank}.${at.openCount}.${at.news2}.${at.ackRank}.${at.ackCount}.${at.stale}|${pr.glucose}${pr.temperature}`
  for (const c of VITAL_COLUMNS) {
    const r = p.latest[c]
    if (r)
      s += `|${r.effective}:${JSON.stringify(r.values)}:${r.interpretation}:${now - Date.parse(r.effective) > STALE_MS}`
  }
  return s
}

function attentionText(at: Attention): (Node | string)[] {
  const parts: (Node | string)[] = []
  if (at.openCount) {
    const sev = SEV_NAME[at.openRank]
    parts.push(
      h('span', { class: `badge sev-${sev}` }, `${SEVERITY_ICON[sev]} ${sev.toUpperCase()}`),
      ` ${at.openCount} open`,
    )
  }
  if (at.news2 !== undefined) parts.push(h('span', { class: 'news2' }, `NEWS2 ${at.news2}`))
  if (at.ackCount) parts.push(h('span', { class: 'acked' }, `${at.ackCount} acknowledged`))
  if (at.stale)
    parts.push(
      h(
        'span',
        { class: 'stale' },
        at.lastReadingMs === undefined ? '◔ stale: no data yet' : '◔ stale: no data for 24 h+',
      ),
    )
  if (!parts.length) parts.push(h('span', { class: 'ok' }, '✓ nothing open'))
  return parts
}

function buildRow(p: PatientRow, at: Attention, pr: Prefs, now: number): HTMLElement {
  const sev = SEV_NAME[at.openRank]
  return h(
    'div',
    {
      role: 'row',
      'data-patient': p.id,
      class: `wl-row sev-${sev}${p.monitoring === false ? ' paused' : ''}`,
    },
    h(
      'div',
      { role: 'rowheader', class: 'c-patient' },
      h('a', { href: `#/patients/${encodeURIComponent(p.id)}`, 'data-focus-key': 'open' }, p.name),
      h('span', { class: 'pid' }, p.monitoring === false ? `${p.id} · monitoring paused` : p.id),
    ),
    h('div', { role: 'cell', class: 'c-attn' }, ...attentionText(at)),
    ...VITAL_COLUMNS.map((c) => {
      const r = p.latest[c]
      if (!r)
        return h(
          'div',
          { role: 'cell', 'data-type': c },
          h('span', { class: 'none' }, '—'),
          srOnly('no reading'),
        )
      const old = now - Date.parse(r.effective) > STALE_MS
      return h(
        'div',
        { role: 'cell', 'data-type': c, class: old ? 'old' : undefined },
        h('span', { class: 'val', title: formatReading(r, pr) }, formatReading(r, pr)),
        h(
          'time',
          { datetime: r.effective, title: localTime(r.effective) },
          old ? `◔ ${shortTime(r.effective, now)}` : shortTime(r.effective, now),
        ),
      )
    }),
  )
}
