import { h, reconcile, srOnly } from './dom.ts'
import { formatReading, LABELS, localTime, SEVERITY_ICON, shortTime, VITAL_COLUMNS } from './format.ts'
import type { Prefs } from './prefs.ts'
import { type Attention, groupByPatient, rankPatients, STALE_MS } from './rank.ts'
import type { PatientRow, Store } from './store.ts'
import { displayUnit, unitLabel } from './units.ts'

// The worklist: who needs attention now. One table, fixed layout and fixed row height, rows reused by key
// so a stream of readings rewrites only the rows that changed (no layout jumps, no lost focus).

const SEV_NAME = ['none', 'low', 'medium', 'high', 'critical']
const SHORT: Record<string, string> = {
  'blood-pressure': 'BP',
  'heart-rate': 'HR',
  'respiratory-rate': 'RR',
  'body-temperature': 'Temp',
}

export function createWorklist(root: HTMLElement, store: Store, prefs: () => Prefs, onComplete?: () => void) {
  const caption = h('caption', {})
  const headRow = h('tr', {})
  const tbody = h('tbody', {})
  const table = h(
    'table',
    { class: 'worklist-table', id: 'worklist' },
    caption,
    h('thead', {}, headRow),
    tbody,
  )
  root.append(h('h2', { id: 'wl-title' }, 'Worklist'), table)
  const cache = new Map<string, { el: HTMLElement; sig: string }>()
  let headSig = ''
  // Progressive first render: the most urgent rows (a screenful and more) in the first frame, the rest in
  // chunks on the following frames, so no single task blocks the page and the top of the list shows at once.
  let shown = 0
  let more = false

  function renderHead(pr: Prefs) {
    const sig = `${pr.glucose}|${pr.temperature}`
    if (sig === headSig) return
    headSig = sig
    headRow.replaceChildren(
      h('th', { scope: 'col', class: 'c-patient' }, 'Patient'),
      h('th', { scope: 'col', class: 'c-attn' }, 'Attention'),
      ...VITAL_COLUMNS.map((c) =>
        h(
          'th',
          { scope: 'col', 'data-type': c },
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
    const rows = rankPatients(store.patients.values(), groupByPatient(store.alerts.values()), now)
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
      (r) => signature(r.p, r.at, pr, now),
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
    'tr',
    { 'data-patient': p.id, class: `sev-${sev}${p.monitoring === false ? ' paused' : ''}` },
    h(
      'th',
      { scope: 'row', class: 'c-patient' },
      h('a', { href: `#/patients/${encodeURIComponent(p.id)}`, 'data-focus-key': 'open' }, p.name),
      h('span', { class: 'pid' }, p.monitoring === false ? `${p.id} · monitoring paused` : p.id),
    ),
    h('td', { class: 'c-attn' }, ...attentionText(at)),
    ...VITAL_COLUMNS.map((c) => {
      const r = p.latest[c]
      if (!r) return h('td', { 'data-type': c }, h('span', { class: 'none' }, '—'), srOnly('no reading'))
      const old = now - Date.parse(r.effective) > STALE_MS
      return h(
        'td',
        { 'data-type': c, class: old ? 'old' : undefined },
        h('span', { class: 'val' }, formatReading(r, pr)),
        h(
          'time',
          { datetime: r.effective, title: localTime(r.effective) },
          old ? `◔ ${shortTime(r.effective, now)}` : shortTime(r.effective, now),
        ),
      )
    }),
  )
}
