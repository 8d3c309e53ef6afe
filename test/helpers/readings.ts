import { toObservations } from '../../ingest/to-observation.ts'
import type { VitalType } from '../../shared/catalog.ts'
import type { StoredObservation } from '../../shared/fhir.ts'

// Stored observations made by the real FHIR mapping, for filling a store directly (tests and benches
// that need long histories without going through MQTT).

export function* makeReadings(opts: {
  patientId: string
  deviceId: string
  type: VitalType
  startMs: number
  stepMs: number
  count: number
  value?: (i: number) => Record<string, number>
}): Generator<StoredObservation> {
  for (let i = 0; i < opts.count; i++) {
    const effectiveMs = opts.startMs + i * opts.stepMs
    const values =
      opts.value?.(i) ??
      (opts.type === 'blood-pressure'
        ? { systolic: 120 + (i % 9), diastolic: 80 - (i % 7) }
        : { value: 60 + (i % 30) })
    yield* toObservations(
      {
        type: opts.type,
        readingId: `r-${opts.type}-${i}`,
        effective: new Date(effectiveMs).toISOString(),
        effectiveMs,
        values,
        flags: [],
      },
      { deviceId: opts.deviceId, patientId: opts.patientId, receivedMs: effectiveMs + 1000 },
    )
  }
}
