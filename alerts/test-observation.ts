import type { VitalType } from '../shared/catalog.ts'
import type { StoredObservation } from '../shared/fhir.ts'

// Observations for alerts tests and bench/alerts.ts (not a test file itself): the stored shape ingest
// produces, with just what the rules read.

let seq = 0
export const T0 = Date.parse('2026-11-27T08:00:00Z')
export const MIN = 60_000

export function obs(
  patientId: string,
  type: VitalType,
  values: Record<string, number>,
  atMs: number,
  deviceId = `${patientId}-dev`,
): StoredObservation {
  const key = `${deviceId}:r-${++seq}`
  const id = `o${seq}`
  const effective = new Date(atMs).toISOString()
  return {
    id,
    key,
    patientId,
    deviceId,
    type,
    effectiveMs: atMs,
    receivedMs: atMs,
    values,
    effective,
    flags: [],
  }
}
