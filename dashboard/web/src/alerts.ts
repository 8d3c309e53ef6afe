import { buildAlertItem, goneReason, markGone, patchAlertItem } from './alert-item.ts'
import { alertText } from './alert-text.ts'
import { ApiError, api } from './api.ts'
import { openDialog } from './dialog.ts'
import { button, h, reconcile } from './dom.ts'
import { watchEngagement } from './engagement.ts'
import { freezeList, liveSlots, pendingAlertsLabel, type Slot } from './freeze.ts'
import type { Prefs } from './prefs.ts'
import { type AlertItem, RANK, type Store } from './store.ts'

// The alert feed: open before acknowledged, most severe first, then the most recently opened; acknowledge,
// resolve with a note, snooze (for this user only, never critical). The order never depends on the last
// update: an alert that keeps firing (a count going up every few seconds) stays where it is instead of
// jumping to the top under the user's pointer. Items are kept by key and patched in place, so live
// updates neither steal focus nor reset a snooze duration the user is choosing.
//
// While the user works in the feed (pointer over it, focus in it, or its resolve dialog open) it is frozen
// (freeze.ts): new alerts wait behind a "N new alerts — show" control in a slot that is always reserved,
// items do not reorder, and an item that leaves keeps its slot greyed. Leaving the feed, or the control,
// applies what waited: the feed is then exactly what it would have been without the freeze.

export function createAlertFeed(root: HTMLElement, store: Store, prefs: Prefs) {
  const title = h('h2', { id: 'feed-title' })
  const showPending = button('', () => applyPending())
  showPending.id = 'feed-pending'
  showPending.hidden = true
  // role=status: the count is announced politely; the slot keeps its height when empty (styles.css).
  const pendingBar = h('div', { class: 'feed-pending', role: 'status' }, showPending)
  const list = h('ul', { class: 'alerts', 'aria-labelledby': 'feed-title' })
  const empty = h('p', { class: 'empty' }, 'No open alerts.')
  const snoozedNote = h('p', { class: 'snoozed-note' })
  const failure = h('p', { class: 'action-failed', role: 'alert' })
  root.append(title, failure, pendingBar, empty, list, snoozedNote)
  const cache = new Map<string, { el: HTMLElement; sig: string }>()
  let shown: Slot<AlertItem>[] = []
  let scheduled = false
  const rerender = () => {
    if (scheduled) return
    scheduled = true
    requestAnimationFrame(() => {
      scheduled = false
      render()
    })
  }
  const engagement = watchEngagement(root, (engaged) => {
    if (!engaged) rerender()
  })

  async function act(a: AlertItem, path: string, body: unknown) {
    try {
      const updated = await api<AlertItem>('POST', `/api/alerts/${encodeURIComponent(a.id)}/${path}`, body)
      store.setAlert(updated)
      failure.textContent = ''
      render()
    } catch (e) {
      // Never silent: the alert is still as it was, and the user must know the action did not happen.
      const who = store.patients.get(a.patientId)?.name ?? a.patientId
      // Someone else resolved it meanwhile: nothing to try again (the feed shows it resolved shortly).
      const resolved = e instanceof ApiError && e.code === 'VW_ERR_ALERT_RESOLVED'
      const verb = path === 'ack' ? 'acknowledge' : path
      // Not found: the patient left this viewer's care team meanwhile (the API answers 404, as for an
      // alert that does not exist). Trying again cannot work, and the feed updates shortly.
      if (e instanceof ApiError && e.status === 404) {
        failure.textContent = `Could not ${verb} the alert for ${who}: ${who} is no longer in your care team. Nothing was changed.`
        throw new Error(`${who} is no longer in your care team: nothing was changed.`)
      }
      failure.textContent = resolved
        ? `The alert for ${who} was resolved meanwhile: ${(e as Error).message}.`
        : `Could not ${verb} the alert for ${who}: ${(e as Error).message}. It is unchanged; try again.`
      throw e
    }
  }

  function resolveWithNote(a: AlertItem) {
    const note = h('textarea', { id: 'resolve-note', maxlength: '2000', rows: '4' }) as HTMLTextAreaElement
    const dialog = openDialog({
      title: `Resolve, for ${store.patients.get(a.patientId)?.name ?? a.patientId}: ${alertText(a.message, prefs)}`,
      body: [h('label', { for: 'resolve-note' }, 'Resolution note (optional)'), note],
      submitLabel: 'Resolve alert',
      onSubmit: async () => {
        await act(a, 'resolve', note.value.trim() ? { note: note.value.trim() } : {})
        return undefined
      },
    }).then((ok) => {
      // The dialog gives focus back to the button that opened it; when the item is gone (its controls
      // inert), focus goes to the item instead of the page, and so stays in the feed.
      const el = cache.get(a.id)?.el
      if (el?.isConnected && !root.contains(document.activeElement)) el.focus({ preventScroll: true })
      return ok
    })
    void engagement.during(dialog)
  }

  /** The "N new alerts — show" control: show them now, and put focus on the first of them. */
  function applyPending() {
    const before = new Set(shown.map((s) => s.key))
    render(true)
    const first = shown.find((s) => !before.has(s.key))
    cache.get(first?.key ?? '')?.el.focus({ preventScroll: true })
  }

  const actions = {
    // A failure is shown in the feed (act); nothing more to do here.
    act: (a: AlertItem, path: string, body: unknown) => void act(a, path, body).catch(() => {}),
    resolve: resolveWithNote,
  }

  function render(applyNow = false) {
    const now = Date.now()
    // The viewer's units: a change re-renders the alert texts in them (alert-text.ts).
    const units = `${prefs.glucose}|${prefs.temperature}`
    const all = [...store.alerts.values()].filter((a) => a.status !== 'resolved')
    // A critical alert is never hidden, whatever snooze it carries from when it was milder.
    const snoozed = all.filter(
      (a) => a.severity !== 'critical' && a.snoozedUntil && Date.parse(a.snoozedUntil) > now,
    )
    const items = all.filter((a) => !snoozed.includes(a)).sort(compareFeed)
    let pending: AlertItem[] = []
    const frozen = engagement.engaged() && !applyNow
    if (frozen) {
      const frozen = freezeList(shown, items, (a) => a.id)
      shown = frozen.slots
      pending = frozen.pending
    } else shown = liveSlots(items, (a) => a.id)
    title.textContent = `Alerts (${items.length})`
    empty.hidden = shown.length > 0
    snoozedNote.textContent = snoozed.length
      ? `${snoozed.length} snoozed by you (still visible to your team).`
      : ''
    const label = pendingAlertsLabel(pending.length, pending.filter((a) => a.severity === 'critical').length)
    if (showPending.textContent !== label) showPending.textContent = label
    showPending.hidden = !label
    if (!frozen) releaseHeights()
    reconcile(
      list,
      shown,
      (s) => s.key,
      (s) =>
        s.gone
          ? 'gone'
          : `${s.item.status}|${s.item.severity}|${s.item.count}|${s.item.updatedAt}|${Math.floor(now / 60_000)}|${units}`,
      (s) => {
        const el = buildAlertItem(s.item, store, actions, prefs)
        if (s.gone) markGone(el, why(s.key))
        holdHeight(el, s.key)
        return el
      },
      cache,
      (el, s) => {
        if (s.gone) {
          markGone(el, why(s.key))
          return true
        }
        if (patchAlertItem(el, s.item, prefs)) return true
        // Rebuilt (acknowledged: its Acknowledge button goes, and the item may lose a line): while frozen,
        // the new item keeps at least the old one's height, so nothing below it moves up.
        if (frozen) heldHeights.set(s.key, el.getBoundingClientRect().height)
        return false
      },
    )
  }

  /** Items rebuilt while frozen keep their old height (a min-height, set through the CSSOM: CSP allows it). */
  const heldHeights = new Map<string, number>()
  function holdHeight(el: HTMLElement, key: string) {
    const height = heldHeights.get(key)
    if (height === undefined) return
    heldHeights.delete(key)
    el.style.minHeight = `${height}px`
    el.classList.add('held')
  }
  function releaseHeights() {
    for (const el of list.querySelectorAll<HTMLElement>('li.held')) {
      el.classList.remove('held')
      el.removeAttribute('style')
    }
  }

  const why = (id: string) => {
    const a = store.alerts.get(id)
    return goneReason(a, !!a?.snoozedUntil && Date.parse(a.snoozedUntil) > Date.now())
  }
  return () => render()
}

function compareFeed(a: AlertItem, b: AlertItem): number {
  return (
    Number(b.status === 'open') - Number(a.status === 'open') ||
    RANK[b.severity] - RANK[a.severity] ||
    Date.parse(b.openedAt) - Date.parse(a.openedAt) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  )
}
