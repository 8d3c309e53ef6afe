import type { Measurement } from './devices.ts'

// Turning samples into canonical readings (ARCHITECTURE.md, "Canonical reading"): device-unique ids,
// ISO timestamps from the device's (possibly skewed) clock, battery on each reading.

export interface CanonicalReading extends Measurement {
  id: string
  ts: string
  battery?: number
}

export function toReadings(
  measurements: Measurement[],
  o: { idBase: string; measuredAtMs: number; batteryPct?: number },
): CanonicalReading[] {
  return measurements.map((m, i) => ({
    id: measurements.length > 1 ? `${o.idBase}.${i}` : o.idBase,
    ...m,
    ts: new Date(o.measuredAtMs).toISOString(),
    ...(o.batteryPct === undefined ? {} : { battery: o.batteryPct }),
  }))
}

/** One message: a single reading, or `{ readings: [...] }` for several (a wearable sample, a replay). */
export function encode(readings: CanonicalReading[]): string {
  return JSON.stringify(readings.length === 1 ? readings[0] : { readings })
}

/** Buffered readings replayed in batches, as devices upload their backlog after being offline. */
export function batches<T>(items: T[], size: number): T[][] {
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}
