import { alertText } from './alert-text.ts'
import { button, h } from './dom.ts'
import { ago, SEVERITY_ICON } from './format.ts'
import type { Prefs } from './prefs.ts'
import type { AlertItem, Store } from './store.ts'

// One item of the alert feed: built once, then patched in place by live updates (status, count, message),
// so an item keeps its element, its focus and the snooze duration being chosen. While the feed is frozen
// (freeze.ts), an item that leaves the feed keeps its slot, greyed and without controls, until the freeze
// ends: collapsing it would pull the next patient's buttons under the pointer.

const SNOOZE_MINUTES = [15, 30, 60, 120, 240]

export interface ItemActions {
  act(a: AlertItem, path: 'ack' | 'snooze', body: unknown): void
  resolve(a: AlertItem): void
}

export function buildAlertItem(a: AlertItem, store: Store, on: ItemActions, prefs: Prefs): HTMLElement {
  const patient = store.patients.get(a.patientId)
  const actions = h('div', { class: 'actions' })
  if (a.status === 'open')
    actions.append(button('Acknowledge', () => on.act(a, 'ack', {}), { 'data-focus-key': 'ack' }))
  actions.append(button('Resolve…', () => on.resolve(a), { 'data-focus-key': 'resolve' }))
  if (a.severity !== 'critical') {
    const sel = h(
      'select',
      { 'aria-label': `Snooze duration for ${a.rule}`, 'data-focus-key': 'snooze-min' },
      ...SNOOZE_MINUTES.map((m) => h('option', { value: String(m) }, m < 60 ? `${m} min` : `${m / 60} h`)),
    ) as HTMLSelectElement
    actions.append(
      sel,
      button('Snooze for me', () => on.act(a, 'snooze', { minutes: Number(sel.value) }), {
        'data-focus-key': 'snooze',
      }),
    )
  } else actions.append(h('span', { class: 'hint' }, 'Critical: cannot be snoozed'))
  return h(
    'li',
    {
      class: `alert sev-${a.severity} status-${a.status}`,
      'data-alert': a.id,
      'data-shape': shapeOf(a),
      // Focusable by script only: focus lands on the item when its controls go (gone) or when new items
      // are shown from the "N new alerts" control.
      tabindex: '-1',
    },
    h(
      'p',
      { class: 'sev' },
      h(
        'span',
        { class: `badge sev-${a.severity}` },
        `${SEVERITY_ICON[a.severity]} ${a.severity.toUpperCase()}`,
      ),
      h('span', { class: 'status', title: statusTitle(a) }, ` ${statusText(a)}`),
    ),
    h(
      'p',
      { class: 'who' },
      h('a', { href: `#/patients/${encodeURIComponent(a.patientId)}` }, patient?.name ?? a.patientId),
      ruleText(a),
    ),
    h('p', { class: 'msg' }, alertText(a.message, prefs)),
    h('p', { class: 'when' }, ...whenText(a)),
    actions,
  )
}

/** The parts of an item a live update may change without rebuilding it. */
export function patchAlertItem(el: HTMLElement, a: AlertItem, prefs: Prefs): boolean {
  if (el.dataset.shape !== shapeOf(a) || el.classList.contains('gone')) return false
  const who = el.querySelector('.who')?.lastChild
  const msg = el.querySelector('.msg')
  const when = el.querySelector('.when')
  if (!who || !msg || !when) return false
  who.textContent = ruleText(a)
  msg.textContent = alertText(a.message, prefs)
  when.replaceChildren(...whenText(a))
  return true
}

/**
 * The item left the feed while it was frozen: same element, same size (nothing below it moves), greyed,
 * saying why in words, its controls inert (no action on a stale item). Focus inside them moves to the item,
 * so it stays in the feed and is not lost.
 */
export function markGone(el: HTMLElement, why: string): void {
  const actions = el.querySelector<HTMLElement>('.actions')
  if (actions?.contains(document.activeElement)) el.focus({ preventScroll: true })
  el.classList.add('gone')
  if (actions) actions.inert = true
  const status = el.querySelector('.status')
  if (status) status.textContent = ` ${why}`
}

export function goneReason(a: AlertItem | undefined, snoozed: boolean): string {
  if (a?.status === 'resolved') return '✓ Resolved'
  if (snoozed) return 'Snoozed for you'
  return 'No longer open'
}

/** What decides an item's controls and status line (acknowledge only while open, snooze never for critical). */
const shapeOf = (a: AlertItem) => `${a.status}|${a.severity}|${a.patientId}|${Boolean(a.escalated)}`

/** Open, escalated (on call told: nobody acknowledged it in time), or acknowledged. */
function statusText(a: AlertItem): string {
  if (a.status === 'open') return a.escalated ? 'Open — ESCALATED' : 'Open'
  return 'Acknowledged'
}

/** The same in full, with who acknowledged it (a tooltip: the status line keeps one length). */
function statusTitle(a: AlertItem): string {
  if (a.status === 'open')
    return a.escalated ? 'Open — escalated: not acknowledged in time, on call was told' : 'Open'
  const by = a.history?.findLast((e) => e.action === 'acknowledged')?.by
  return by ? `Acknowledged by ${by}` : 'Acknowledged'
}

const ruleText = (a: AlertItem) => ` — ${a.rule}${a.score !== undefined ? ` (score ${a.score})` : ''}`

function whenText(a: AlertItem): (Node | string)[] {
  return [
    h('time', { datetime: a.openedAt }, `opened ${ago(a.openedAt)}`),
    a.count > 1 ? ` · ${a.count} readings` : '',
  ]
}
