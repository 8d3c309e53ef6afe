import { observationId, type StoredObservation } from '../shared/fhir.ts'
import type { Normalized } from './normalize.ts'

// Pure: a normalized reading -> the stored reading(s) whose FHIR R4 Observation
// (`observationResource` in shared/fhir.ts) conforms to the vital-signs profile.

export interface Subject {
  deviceId: string
  patientId: string
  receivedMs: number
}

const PULSE = ':pulse'

/**
 * The device's reading id a stored key came from: the key is `deviceId:readingId`, and a cuff's pulse
 * is `deviceId:readingId:pulse` (reading ids never end in ":pulse": reading-schema.ts).
 */
export function readingIdOfKey(key: string, deviceId: string): string {
  const id = key.slice(deviceId.length + 1)
  return id.endsWith(PULSE) ? id.slice(0, -PULSE.length) : id
}

/** One reading -> one stored reading, plus a heart-rate reading for a BP cuff's pulse. */
export function toObservations(n: Normalized, s: Subject): StoredObservation[] {
  const key = `${s.deviceId}:${n.readingId}`
  const main: StoredObservation = {
    id: observationId(key, n.effectiveMs),
    key,
    patientId: s.patientId,
    deviceId: s.deviceId,
    type: n.type,
    effectiveMs: n.effectiveMs,
    receivedMs: s.receivedMs,
    values: n.values,
    effective: n.effective,
    flags: n.flags,
  }
  if (n.outOfRange && n.type !== 'blood-pressure') main.outOfRange = n.outOfRange
  if (n.pulse === undefined) return [main]
  const pulseKey = `${key}${PULSE}`
  return [
    main,
    {
      ...main,
      id: observationId(pulseKey, n.effectiveMs),
      key: pulseKey,
      type: 'heart-rate',
      values: { value: n.pulse },
    },
  ]
}
