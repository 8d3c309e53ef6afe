import type { Baseline } from './profiles.ts'
import { intensity, SCENARIO_DEFINITIONS, type ScheduledScenario, type Vitals } from './scenarios.ts'

// A patient's true vitals at a simulated instant: baseline, circadian rhythm, active scenarios, then
// the physiological couplings (fever drives heart and respiratory rate). Pure: no clock, no randomness;
// measurement noise belongs to the device that measures.

const DAY_MS = 86_400_000

/** Cosine rhythm over 24 h peaking at `peakHour` (simulated UTC time of day). */
function rhythm(simMs: number, peakHour: number, amplitude: number): number {
  const hour = (((simMs % DAY_MS) + DAY_MS) % DAY_MS) / 3_600_000
  return amplitude * Math.cos(((hour - peakHour) / 24) * 2 * Math.PI)
}

// Amplitudes from textbook circadian physiology: core temperature ±0.3 Cel with its nadir before dawn,
// heart rate lowest in sleep, blood pressure with the morning surge and nocturnal dipping (~10 %).
export function circadian(b: Baseline, simMs: number): Vitals {
  return {
    ...b,
    heartRateBpm: b.heartRateBpm + rhythm(simMs, 16, 5),
    respiratoryRatePerMin: b.respiratoryRatePerMin + rhythm(simMs, 14, 0.7),
    temperatureCel: b.temperatureCel + rhythm(simMs, 18, 0.3),
    systolicMmHg: b.systolicMmHg + rhythm(simMs, 10, 6),
    diastolicMmHg: b.diastolicMmHg + rhythm(simMs, 10, 4),
    weightKg: b.weightKg + rhythm(simMs, 20, 0.4),
  }
}

/** Liebermeister's rule: about 10 beats/min per Cel of fever; breathing ~3 /min per Cel. */
export const FEVER_HR_PER_CEL = 10
export const FEVER_RR_PER_CEL = 3

export function vitalsAt(b: Baseline, simMs: number, scenarios: readonly ScheduledScenario[]): Vitals {
  const v = circadian(b, simMs)
  const afebrile = v.temperatureCel
  for (const s of scenarios) {
    const k = intensity(s.kind, simMs - s.startSimMs)
    if (k > 0) SCENARIO_DEFINITIONS[s.kind].apply?.(v, k)
  }
  const feverCel = Math.max(0, v.temperatureCel - afebrile)
  v.heartRateBpm += FEVER_HR_PER_CEL * feverCel
  v.respiratoryRatePerMin += FEVER_RR_PER_CEL * feverCel
  v.spo2Pct = Math.min(100, v.spo2Pct - 0.4 * feverCel)
  return v
}
