import type { VitalType } from '../shared/catalog.ts'
import type { StoredObservation } from '../shared/fhir.ts'
import type { ReadingStore } from '../storage/ports.ts'

// The latest observation of each type per patient, for NEWS2. Every committed observation of a patient
// passes through this component in order (evaluation is serialized per patient), so after one seed
// from the store the map stays exact without a query per reading. An observation older than what the
// map holds (a device uploading its backlog) is answered from the store, bounded by its own time.

type Latest = Map<VitalType, StoredObservation>

export function createLatestValues(
  readings: ReadingStore,
  types: readonly VitalType[],
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
          toMs: obs.effectiveMs,
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

  /** Latest observation of each type at or before `obs` and at or after `fromMs`, `obs` included. */
  async function around(obs: StoredObservation, fromMs: number): Promise<StoredObservation[]> {
    let latest = byPatient.get(obs.patientId)
    if (!latest) {
      const seeded = await fromStore(obs, Number.MIN_SAFE_INTEGER)
      latest = new Map(seeded.map((o) => [o.type, o]))
      if (byPatient.size >= maxPatients) byPatient.delete(byPatient.keys().next().value!)
      byPatient.set(obs.patientId, latest)
    }
    observe(obs)
    if (latest.get(obs.type) !== obs) return fromStore(obs, fromMs)
    for (const o of latest.values()) if (o.effectiveMs > obs.effectiveMs) return fromStore(obs, fromMs)
    const out: StoredObservation[] = [obs]
    for (const o of latest.values()) if (o !== obs && o.effectiveMs >= fromMs) out.push(o)
    return out
  }

  return { around, observe }
}
