import { clear, h } from './dom.ts'
import { ago, formatReading, LABELS, localTime, VITAL_COLUMNS } from './format.ts'
import { RANK, type Store } from './store.ts'

// Patients ordered by who needs attention: highest open alert severity, then number of open alerts.
export function renderWorklist(root: HTMLElement, store: Store) {
  const rows = [...store.patients.values()].map((p) => {
    const open = store.openAlertsOf(p.id)
    const top = open.reduce((m, a) => Math.max(m, RANK[a.severity]), 0)
    return { p, open, top }
  })
  rows.sort((a, b) => b.top - a.top || b.open.length - a.open.length || a.p.id.localeCompare(b.p.id))
  const table = h(
    'table',
    { class: 'worklist-table' },
    h('caption', {}, `${rows.length} patients`),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Patient'),
        h('th', { scope: 'col' }, 'Alerts'),
        ...VITAL_COLUMNS.map((c) => h('th', { scope: 'col' }, LABELS[c])),
      ),
    ),
    h(
      'tbody',
      {},
      ...rows.map(({ p, open, top }) => {
        const sev =
          top === 4 ? 'critical' : top === 3 ? 'high' : top === 2 ? 'medium' : top === 1 ? 'low' : 'none'
        return h(
          'tr',
          { 'data-patient': p.id, class: `sev-${sev}` },
          h('th', { scope: 'row' }, h('span', { class: 'name' }, p.name), h('span', { class: 'pid' }, p.id)),
          h('td', {}, open.length ? `${open.length} open (${sev})` : 'none'),
          ...VITAL_COLUMNS.map((c) => {
            const r = p.latest[c]
            return h(
              'td',
              { 'data-type': c },
              r
                ? h(
                    'span',
                    { title: localTime(r.effective) },
                    formatReading(r),
                    h('small', {}, ago(r.effective)),
                  )
                : '—',
            )
          }),
        )
      }),
    ),
  )
  clear(root).append(h('h2', { id: 'wl-title' }, 'Worklist'), table)
}
