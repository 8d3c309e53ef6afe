import type { StoredObservation } from '../shared/fhir.ts'
import type { Logger } from '../shared/logger.ts'
import type { AlertStore, ReadingStore } from '../storage/ports.ts'

// Which committed readings alerts have evaluated, kept in the store. A reading is acknowledged to its
// device once it is committed, and evaluated just after, in memory; a crash (kill -9, power cut, out
// of memory) in between would leave a stored reading that no rule ever saw, and the device will not
// send it again. So the store keeps a watermark, the commit order (`seq`, the rowid) up to which every
// reading has been evaluated, and the next start evaluates what came after it before anything else.
//
// The watermark is the newest reading seen while nothing is waiting, else just below the oldest reading
// still being evaluated; it is written every second and at a clean stop. Readings evaluated in the last
// second before a crash are evaluated again, except by the rules that already put them on an alert
// (the alert lists its observation ids): a crash between one rule's alert and the next rule's must not
// leave the next rule unevaluated. Anything else only folds into the live alert again.

const PERSIST_MS = 1000
const PAGE = 1000

export function createProgress(deps: {
  store: Pick<AlertStore, 'evaluatedThrough' | 'setEvaluatedThrough' | 'list'>
  readings: Pick<ReadingStore, 'committedAfter'>
  log: Logger
}) {
  let newest = 0
  const waiting = new Set<number>()
  let persisted: number | undefined
  // While catching up, the watermark stays where it was: the readings not yet read back are not seen.
  let holdAt: number | undefined
  let timer: NodeJS.Timeout | undefined

  const watermark = () => {
    if (holdAt !== undefined) return holdAt
    if (waiting.size === 0) return newest
    let oldest = Number.POSITIVE_INFINITY
    for (const s of waiting) if (s < oldest) oldest = s
    return oldest - 1
  }

  async function persist() {
    const w = watermark()
    if (w === persisted) return
    try {
      await deps.store.setEvaluatedThrough(w)
      persisted = w
    } catch (err) {
      deps.log.warn({ err }, 'could not record how far alerts have evaluated; will retry')
    }
  }

  return {
    /** An observation handed to evaluation; `pending` while it waits (undefined: evaluated at once). */
    seen(obs: StoredObservation, pending: Promise<unknown> | undefined) {
      const seq = obs.seq
      if (seq === undefined) return
      if (seq > newest) newest = seq
      if (!pending) return
      waiting.add(seq)
      const done = () => waiting.delete(seq)
      pending.then(done, done)
    },

    /**
     * Hand every reading committed after the stored watermark to `evaluate`, in commit order, then keep
     * the watermark up to date. Resolves with how many readings were caught up.
     */
    async start(
      evaluate: (batch: StoredObservation[], raised: ReadonlyMap<string, ReadonlySet<string>>) => void,
    ): Promise<{ readings: number; through: number }> {
      const from = await deps.store.evaluatedThrough()
      if (from === undefined || !deps.readings.committedAfter) return { readings: 0, through: 0 }
      holdAt = from
      persisted = from
      let caught = 0
      let after = from
      try {
        // Per patient: observation id -> the rules whose alerts list it.
        const alerted = new Map<string, Map<string, Set<string>>>()
        const rulesOn = async (o: StoredObservation) => {
          let byObservation = alerted.get(o.patientId)
          if (!byObservation) {
            byObservation = new Map()
            for (const a of await deps.store.list({ patientIds: [o.patientId], limit: 100 }))
              for (const id of a.observationIds) {
                const rules = byObservation.get(id) ?? new Set()
                rules.add(a.rule)
                byObservation.set(id, rules)
              }
            alerted.set(o.patientId, byObservation)
          }
          return byObservation.get(o.id)
        }
        for (;;) {
          const page = await deps.readings.committedAfter(after, PAGE)
          if (page.length === 0) break
          const raised = new Map<string, ReadonlySet<string>>()
          for (const o of page) {
            const rules = await rulesOn(o)
            if (rules) raised.set(o.id, rules)
          }
          evaluate(page, raised)
          caught += page.length
          after = page[page.length - 1].seq as number
        }
        if (after > newest) newest = after
        if (caught > 0)
          deps.log.warn(
            { readings: caught, from },
            'evaluated readings that were stored but not evaluated when Vitalwire last stopped',
          )
        // Caught up: from now on the watermark follows evaluation. (After a failure it stays at `from`,
        // so the next start tries again.)
        holdAt = undefined
      } finally {
        timer = setInterval(() => void persist(), PERSIST_MS)
        timer.unref()
      }
      return { readings: caught, through: after }
    },

    /** Stop and record the watermark (after the last evaluations have finished). */
    async close() {
      clearInterval(timer)
      if (persisted !== undefined) await persist()
    },
  }
}
