import { lisMembers } from './dom.ts'

// "Freeze while the user is engaged": while the pointer is over a live list, or the keyboard focus is
// inside it, or a dialog opened from it is open, what the user sees does not move. A new item inserted
// above the one under the pointer, or a reorder, would put a different patient under a click that is
// already on its way (acknowledge X, open Y). Updates to the items shown still apply in place; what would
// move them waits and is applied when the user leaves or asks for it. These are the pure parts.

/** One place in a frozen list: the newest item for its key, or the last one shown when it is gone. */
export interface Slot<T> {
  key: string
  item: T
  /** No longer in the list (resolved, snoozed, removed): its slot stays, greyed, until the freeze ends. */
  gone: boolean
}

export const liveSlots = <T>(items: T[], key: (t: T) => string): Slot<T>[] =>
  items.map((item) => ({ key: key(item), item, gone: false }))

/**
 * The list as it may be shown while frozen: the keys shown before, in the same order, each with its newest
 * item (or marked gone), and the items not shown yet (`pending`, in their own order). Nothing is dropped:
 * every item of `next` is either in a live slot or pending, and when the freeze ends the list is `next`.
 */
export function freezeList<T>(
  shown: Slot<T>[],
  next: T[],
  key: (t: T) => string,
): { slots: Slot<T>[]; pending: T[] } {
  const byKey = new Map<string, T>()
  for (const t of next) byKey.set(key(t), t)
  const slots = shown.map((s): Slot<T> => {
    const item = byKey.get(s.key)
    return item === undefined ? { key: s.key, item: s.item, gone: true } : { key: s.key, item, gone: false }
  })
  const kept = new Set(shown.map((s) => s.key))
  return { slots, pending: next.filter((t) => !kept.has(key(t))) }
}

/** "3 new alerts (1 critical) — show": the control that applies what waits. */
export function pendingAlertsLabel(count: number, critical: number): string {
  if (!count) return ''
  const what = `${count} new alert${count === 1 ? '' : 's'}`
  return `${what}${critical ? ` (${critical} critical)` : ''} — show`
}

/**
 * How many patients the worklist would move if the order were applied now: the rows outside a longest
 * run that is already in order (one patient rising past 50 others is 1, not 51), plus the patients not
 * shown yet and the rows shown for patients no longer listed.
 */
export function rankChanges(displayed: string[], order: string[]): number {
  const pos = new Map<string, number>()
  for (const [i, k] of order.entries()) pos.set(k, i)
  const seq = displayed.map((k) => pos.get(k) ?? -1)
  const present = seq.filter((i) => i >= 0).length
  const removed = displayed.length - present
  const added = order.length - present
  return present - lisMembers(seq).size + removed + added
}

export function pausedOrderLabel(changed: number): string {
  if (!changed) return ''
  return `Order paused while you work — ${changed} patient${changed === 1 ? '' : 's'} changed rank.`
}
