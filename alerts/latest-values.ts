import type { VitalType } from '../shared/catalog.ts'
import type { StoredObservation } from '../shared/fhir.ts'
import type { ReadingStore } from '../storage/ports.ts'

// The latest observation of each type per patient, for NEWS2. Every committed observation of a patient
// passes through this component in order (evaluation is serialized per patient), so after one seed
// from the store the map stays exact without a query per reading.

type Latest = Map<VitalType, StoredObservation>

export function createLatestValues(
  readings: ReadingStore,
  types: readonly VitalType[],
  /** The alerts clock: the wall clock live, each reading's time in a replay. */
  now: () => number,
  maxPatients = 100_000,
) {
  const byPatient = new Map<string, Latest>()

  async function fromStore(obs: StoredObservation, fromMs: number): Promise<StoredObservation[]> {
    const pages = await Promise.all(
      types.map((type) =>
        readings.search({
          patientIds: [obs.patientId],
          types: [type],
          fromMs,
          // Up to now, not to this reading's time: when a patient's first reading after a restart (or
          // an eviction) is a late one, newer stored values still belong in the picture.
          toMs: Math.max(now(), obs.effectiveMs),
          sort: 'desc',
          limit: 1,
        }),
      ),
    )
    return pages.flatMap((p) => p.items)
  }

  /** Note every committed observation of a tracked type (whatever rules are on), in order. */
  function observe(obs: StoredObservation) {
    const latest = byPatient.get(obs.patientId)
    const prev = latest?.get(obs.type)
    if (latest && types.includes(obs.type) && (!prev || prev.effectiveMs <= obs.effectiveMs))
      latest.set(obs.type, obs)
  }

  /**
   * The patient's current picture after `obs`: the latest observation of each type, within `windowMs` of
   * the newest of them. A late reading older than what is already known for its type does not change
   * the current picture, so it is answered without a query (null); only the very first observation of
   * a patient seeds the map from the store. Observations arrive in commit order per patient.
   */
  async function current(obs: StoredObservation, windowMs: number): Promise<StoredObservation[] | null> {
    if (!byPatient.has(obs.patientId)) {
      const seeded = await fromStore(obs, Number.MIN_SAFE_INTEGER)
      if (byPatient.size >= maxPatients) byPatient.delete(byPatient.keys().next().value!)
      byPatient.set(obs.patientId, new Map(seeded.map((o) => [o.type, o])))
    }
    return known(obs, windowMs) as StoredObservation[] | null
  }

  /**
   * `current` without waiting, for a patient already seeded (every reading after a patient's first);
   * `undefined` when the seed from the store is still needed. The hot path of every NEWS2 evaluation.
   */
  function known(obs: StoredObservation, windowMs: number): StoredObservation[] | null | undefined {
    const latest = byPatient.get(obs.patientId)
    if (!latest) return undefined
    observe(obs)
    if (latest.get(obs.type) !== obs) return null
    let newest = obs.effectiveMs
    for (const o of latest.values()) if (o.effectiveMs > newest) newest = o.effectiveMs
    const out: StoredObservation[] = []
    for (const o of latest.values()) if (o.effectiveMs >= newest - windowMs) out.push(o)
    return out
  }

  return { current, known, observe }
}
