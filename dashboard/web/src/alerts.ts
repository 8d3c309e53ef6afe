import { api } from './api.ts'
import { clear, h } from './dom.ts'
import { ago } from './format.ts'
import { RANK, type Store } from './store.ts'

// The alert feed: newest and most severe first; acknowledge or resolve with a note.
export function renderAlerts(root: HTMLElement, store: Store, opts: { onChange: () => void }) {
  const items = [...store.alerts.values()]
    .filter((a) => a.status !== 'resolved')
    .sort((a, b) => RANK[b.severity] - RANK[a.severity] || Date.parse(b.updatedAt) - Date.parse(a.updatedAt))
  const list = h('ul', { class: 'alerts' })
  for (const a of items) {
    const patient = store.patients.get(a.patientId)
    const ack = h('button', { type: 'button', 'data-action': 'ack' }, 'Acknowledge') as HTMLButtonElement
    const resolve = h('button', { type: 'button', 'data-action': 'resolve' }, 'Resolve') as HTMLButtonElement
    ack.disabled = a.status !== 'open'
    ack.onclick = async () => {
      await api('POST', `/api/alerts/${a.id}/ack`, {})
      opts.onChange()
    }
    resolve.onclick = async () => {
      const note = prompt('Resolution note (optional)') ?? undefined
      await api('POST', `/api/alerts/${a.id}/resolve`, note ? { note } : {})
      opts.onChange()
    }
    list.append(
      h(
        'li',
        { class: `alert sev-${a.severity} status-${a.status}`, 'data-alert': a.id },
        h('p', { class: 'sev' }, `${a.severity.toUpperCase()} · ${a.status}`),
        h('p', { class: 'who' }, `${patient?.name ?? a.patientId} — ${a.rule}`),
        h('p', { class: 'msg' }, a.message),
        h('p', { class: 'when' }, `opened ${ago(a.openedAt)}${a.count > 1 ? ` · ${a.count} readings` : ''}`),
        h('div', { class: 'actions' }, ack, resolve),
      ),
    )
  }
  clear(root).append(
    h('h2', { id: 'feed-title' }, `Alerts (${items.length})`),
    items.length ? list : h('p', {}, 'No open alerts.'),
  )
}
