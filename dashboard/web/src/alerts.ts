import { api } from './api.ts'
import { openDialog } from './dialog.ts'
import { button, h, reconcile } from './dom.ts'
import { ago, SEVERITY_ICON } from './format.ts'
import { type AlertItem, RANK, type Store } from './store.ts'

// The alert feed: open before acknowledged, most severe first, then the most recently opened; acknowledge,
// resolve with a note, snooze (for this user only, never critical). The order never depends on the last
// update: an alert that keeps firing (a count going up every few seconds) stays where it is instead of
// jumping to the top under the user's pointer. Items are kept by key and patched in place, so live
// updates neither steal focus nor reset a snooze duration the user is choosing.

const SNOOZE_MINUTES = [15, 30, 60, 120, 240]

export function createAlertFeed(root: HTMLElement, store: Store) {
  const title = h('h2', { id: 'feed-title' })
  const list = h('ul', { class: 'alerts', 'aria-labelledby': 'feed-title' })
  const empty = h('p', { class: 'empty' }, 'No open alerts.')
  const snoozedNote = h('p', { class: 'snoozed-note' })
  root.append(title, empty, list, snoozedNote)
  const cache = new Map<string, { el: HTMLElement; sig: string }>()

  async function act(a: AlertItem, path: string, body: unknown) {
    const updated = await api<AlertItem>('POST', `/api/alerts/${encodeURIComponent(a.id)}/${path}`, body)
    store.setAlert(updated)
    render()
  }

  function resolveWithNote(a: AlertItem) {
    const note = h('textarea', { id: 'resolve-note', maxlength: '2000', rows: '4' }) as HTMLTextAreaElement
    void openDialog({
      title: `Resolve: ${a.message}`,
      body: [h('label', { for: 'resolve-note' }, 'Resolution note (optional)'), note],
      submitLabel: 'Resolve alert',
      onSubmit: async () => {
        await act(a, 'resolve', note.value.trim() ? { note: note.value.trim() } : {})
        return undefined
      },
    })
  }

  /** The parts of an item a live update may change without rebuilding it. */
  function patch(el: HTMLElement, a: AlertItem): boolean {
    if (el.dataset.shape !== shapeOf(a)) return false
    const who = el.querySelector('.who')?.lastChild
    const msg = el.querySelector('.msg')
    const when = el.querySelector('.when')
    if (!who || !msg || !when) return false
    who.textContent = ruleText(a)
    msg.textContent = a.message
    when.replaceChildren(...whenText(a))
    return true
  }

  function build(a: AlertItem): HTMLElement {
    const patient = store.patients.get(a.patientId)
    const actions = h('div', { class: 'actions' })
    if (a.status === 'open')
      actions.append(button('Acknowledge', () => void act(a, 'ack', {}), { 'data-focus-key': 'ack' }))
    actions.append(button('Resolve…', () => resolveWithNote(a), { 'data-focus-key': 'resolve' }))
    if (a.severity !== 'critical') {
      const sel = h(
        'select',
        { 'aria-label': `Snooze duration for ${a.rule}`, 'data-focus-key': 'snooze-min' },
        ...SNOOZE_MINUTES.map((m) => h('option', { value: String(m) }, m < 60 ? `${m} min` : `${m / 60} h`)),
      ) as HTMLSelectElement
      actions.append(
        sel,
        button('Snooze for me', () => void act(a, 'snooze', { minutes: Number(sel.value) }), {
          'data-focus-key': 'snooze',
        }),
      )
    } else actions.append(h('span', { class: 'hint' }, 'Critical: cannot be snoozed'))
    return h(
      'li',
      { class: `alert sev-${a.severity} status-${a.status}`, 'data-alert': a.id, 'data-shape': shapeOf(a) },
      h(
        'p',
        { class: 'sev' },
        h(
          'span',
          { class: `badge sev-${a.severity}` },
          `${SEVERITY_ICON[a.severity]} ${a.severity.toUpperCase()}`,
        ),
        ` ${a.status === 'open' ? 'Open' : 'Acknowledged'}`,
      ),
      h(
        'p',
        { class: 'who' },
        h('a', { href: `#/patients/${encodeURIComponent(a.patientId)}` }, patient?.name ?? a.patientId),
        ruleText(a),
      ),
      h('p', { class: 'msg' }, a.message),
      h('p', { class: 'when' }, ...whenText(a)),
      actions,
    )
  }

  function render() {
    const now = Date.now()
    const all = [...store.alerts.values()].filter((a) => a.status !== 'resolved')
    const snoozed = all.filter((a) => a.snoozedUntil && Date.parse(a.snoozedUntil) > now)
    const items = all
      .filter((a) => !snoozed.includes(a))
      .sort(
        (a, b) =>
          Number(b.status === 'open') - Number(a.status === 'open') ||
          RANK[b.severity] - RANK[a.severity] ||
          Date.parse(b.openedAt) - Date.parse(a.openedAt) ||
          (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      )
    title.textContent = `Alerts (${items.length})`
    empty.hidden = items.length > 0
    snoozedNote.textContent = snoozed.length
      ? `${snoozed.length} snoozed by you (still visible to your team).`
      : ''
    reconcile(
      list,
      items,
      (a) => a.id,
      (a) => `${a.status}|${a.severity}|${a.count}|${a.updatedAt}|${Math.floor(now / 60_000)}`,
      build,
      cache,
      patch,
    )
  }
  return render
}

/** What decides an item's controls (acknowledge only while open, snooze never for critical). */
const shapeOf = (a: AlertItem) => `${a.status}|${a.severity}|${a.patientId}`

const ruleText = (a: AlertItem) => ` — ${a.rule}${a.score !== undefined ? ` (score ${a.score})` : ''}`

function whenText(a: AlertItem): (Node | string)[] {
  return [
    h('time', { datetime: a.openedAt }, `opened ${ago(a.openedAt)}`),
    a.count > 1 ? ` · ${a.count} readings` : '',
  ]
}
