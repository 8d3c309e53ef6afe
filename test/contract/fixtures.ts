import { randomUUID } from 'node:crypto'
import { decode } from '../../ingest/decode.ts'
import { toObservations } from '../../ingest/to-observation.ts'
import type { Alert } from '../../shared/alert.ts'
import type { StoredObservation } from '../../shared/fhir.ts'

// Observations made the way ingest makes them (decode -> normalize -> FHIR), so the contract runs on
// real shapes: BP with components and a pulse, glucose LO without a value, flags in meta.tag.

export const NOW_MS = Date.parse('2026-11-27T10:00:00Z')
const limits = { nowMs: NOW_MS, maxFutureMs: 300_000, maxAgeMs: 30 * 86_400_000 }

export function observe(deviceId: string, patientId: string, reading: Record<string, unknown>) {
  const [item] = decode(Buffer.from(JSON.stringify(reading)), limits)
  if (!item.ok) throw new Error(item.message)
  return toObservations(item.reading, { deviceId, patientId, receivedMs: NOW_MS + 1 })
}

/** Random ids so tests never see each other's data (medplum-style isolation). */
export function ids() {
  const u = randomUUID().slice(0, 8)
  return { patient: `p-${u}`, other: `q-${u}`, device: `d-${u}`, device2: `e-${u}` }
}

/** `n` heart rates one minute apart, starting at `startMs`. */
export function heartRates(
  deviceId: string,
  patientId: string,
  n: number,
  startMs: number,
): StoredObservation[] {
  return Array.from({ length: n }, (_, i) =>
    observe(deviceId, patientId, {
      id: `hr-${i}`,
      type: 'heart-rate',
      value: 60 + (i % 100),
      ts: startMs + i * 60_000,
    }),
  ).flat()
}

/** An open alert as the alert store holds it, at `at`, with the fields a test sets itself. */
export function alertFixture(
  o: Pick<Alert, 'id' | 'patientId' | 'rule' | 'severity'> & Partial<Alert>,
  at = new Date(NOW_MS).toISOString(),
): Alert {
  return {
    status: 'open',
    message: 'm',
    openedAt: at,
    updatedAt: at,
    firstSeenAt: at,
    lastSeenAt: at,
    observationIds: [],
    count: 1,
    history: [],
    ...o,
  }
}
