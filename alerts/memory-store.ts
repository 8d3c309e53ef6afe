import type { Alert, AlertStatus } from '../shared/alert.ts'
import type { AlertStore } from '../storage/ports.ts'

// An in-memory AlertStore for dry runs (`vitalwire rules test`): the replay raises alerts here, never in
// the real store, so nobody is notified. Keeps the one-live-alert-per-patient-and-rule invariant.

export function createMemoryAlertStore(): AlertStore & { all(): Alert[] } {
  const byId = new Map<string, Alert>()
  const live = new Map<string, string>()
  const key = (a: { patientId: string; rule: string }) => `${a.patientId}\u0000${a.rule}`
  const copy = (a: Alert | undefined) => (a ? structuredClone(a) : undefined)
  const index = (a: Alert) => {
    if (a.status === 'resolved') {
      if (live.get(key(a)) === a.id) live.delete(key(a))
    } else live.set(key(a), a.id)
  }
  return {
    async insert(a) {
      const other = live.get(key(a))
      if (other) throw new Error(`UNIQUE constraint failed: live alert ${other} for ${a.patientId}/${a.rule}`)
      byId.set(a.id, structuredClone(a))
      index(a)
    },
    async update(a) {
      byId.set(a.id, structuredClone(a))
      index(a)
    },
    async live(patientId, rule) {
      const id = live.get(key({ patientId, rule }))
      return copy(id ? byId.get(id) : undefined)
    },
    async lastResolved(patientId, rule) {
      let last: Alert | undefined
      for (const a of byId.values())
        if (a.patientId === patientId && a.rule === rule && a.status === 'resolved')
          if (!last || a.updatedAt > last.updatedAt) last = a
      return copy(last)
    },
    async allLive() {
      return [...live.values()].map((id) => structuredClone(byId.get(id)!))
    },
    async get(id) {
      return copy(byId.get(id))
    },
    async list(q: {
      status?: AlertStatus
      patientIds?: string[]
      limit: number
      changedAfter?: { updatedMs: number; id: string }
    }) {
      const after = q.changedAfter
      // Positive when `a` changed after `b` (last change time, then id): the store's two orders.
      const later = (a: { ms: number; id: string }, b: { ms: number; id: string }) =>
        a.ms - b.ms || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
      const at = (a: Alert) => ({ ms: Date.parse(a.updatedAt), id: a.id })
      return [...byId.values()]
        .filter(
          (a) =>
            (!q.status || a.status === q.status) &&
            (!q.patientIds || q.patientIds.includes(a.patientId)) &&
            (!after || later(at(a), { ms: after.updatedMs, id: after.id }) > 0),
        )
        .sort((a, b) => (after ? later(at(a), at(b)) : later(at(b), at(a))))
        .slice(0, q.limit)
        .map((a) => structuredClone(a))
    },
    async snooze() {},
    async endSnoozes() {},
    // A dry run evaluates what it is given; nothing to catch up on.
    async evaluatedThrough() {
      return undefined
    },
    async setEvaluatedThrough() {},
    async snoozedBy() {
      return new Map()
    },
    all: () => [...byId.values()],
  }
}
