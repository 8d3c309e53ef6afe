import type { Baseline } from './profiles.ts'

// Clinical scenarios: time courses that push a patient's vitals across the default alert thresholds
// (../shared/reference/CLINICAL.md), plus two device scenarios (going silent, battery running down).
// Each has an onset ramp, a plateau and a recovery, all in simulated time.

export const SCENARIOS = [
  'desaturation',
  'hypertensive-crisis',
  'fever',
  'weight-gain',
  'hypoglycemia',
  'device-silent',
  'battery-drain',
] as const
export type ScenarioKind = (typeof SCENARIOS)[number]

export interface ScheduledScenario {
  kind: ScenarioKind
  patientId: string
  /** Device scenarios target one device; clinical ones leave this out. */
  deviceId?: string
  startSimMs: number
}

export type Vitals = Baseline

const MIN = 60_000
const HOUR = 60 * MIN

interface ScenarioDefinition {
  rampMs: number
  plateauMs: number
  recoverMs: number
  /** Spot-check devices of these kinds measure this often while the patient feels unwell. */
  symptomaticCheckMs?: number
  /** Move vitals toward the episode's values; `k` is the intensity, 0..1. */
  apply?(v: Vitals, k: number): void
}

const toward = (from: number, target: number, k: number) => from + (target - from) * k

export const SCENARIO_DEFINITIONS: Record<ScenarioKind, ScenarioDefinition> = {
  // Desaturation to ~86 % (spo2-low < 90 high; hypercapnic patients reach ~82 %, < 85 critical) with
  // compensatory tachypnoea (rr-high >= 25) and tachycardia.
  desaturation: {
    rampMs: 8 * MIN,
    plateauMs: 40 * MIN,
    recoverMs: 15 * MIN,
    symptomaticCheckMs: 10 * MIN,
    apply(v, k) {
      v.spo2Pct = toward(v.spo2Pct, Math.min(86, v.spo2Pct - 10), k)
      v.respiratoryRatePerMin = toward(v.respiratoryRatePerMin, 28, k)
      v.heartRateBpm += 18 * k
    },
  },
  // AHA hypertensive crisis: above 180/120 (bp-crisis is `>`, so the plateau sits at ~195/124).
  'hypertensive-crisis': {
    rampMs: 20 * MIN,
    plateauMs: 90 * MIN,
    recoverMs: 60 * MIN,
    symptomaticCheckMs: 10 * MIN,
    apply(v, k) {
      v.systolicMmHg = toward(v.systolicMmHg, 196, k)
      v.diastolicMmHg = toward(v.diastolicMmHg, 124, k)
      v.heartRateBpm += 8 * k
    },
  },
  // Fever to 39.3 Cel (temp-fever high at >= 39.1). Heart and respiratory rate follow temperature in
  // physiology.ts, so the correlation holds whatever raises the temperature.
  fever: {
    rampMs: 3 * HOUR,
    plateauMs: 24 * HOUR,
    recoverMs: 6 * HOUR,
    symptomaticCheckMs: 2 * HOUR,
    apply(v, k) {
      v.temperatureCel = toward(v.temperatureCel, 39.3, k)
    },
  },
  // Heart-failure congestion: +2.3 kg over a day (weight-gain: >= 1.4 kg in 24 h), ankles and lungs
  // filling: a little tachycardia and lower saturation.
  'weight-gain': {
    rampMs: 24 * HOUR,
    plateauMs: 72 * HOUR,
    recoverMs: 48 * HOUR,
    symptomaticCheckMs: 6 * HOUR,
    apply(v, k) {
      v.weightKg += 2.3 * k
      v.heartRateBpm += 6 * k
      v.spo2Pct -= 1.5 * k
      v.respiratoryRatePerMin += 2 * k
    },
  },
  // ADA level 2 hypoglycaemia (< 54 mg/dL) with the adrenergic response (tachycardia).
  hypoglycemia: {
    rampMs: 30 * MIN,
    plateauMs: 45 * MIN,
    recoverMs: 30 * MIN,
    symptomaticCheckMs: 15 * MIN,
    apply(v, k) {
      v.glucoseMgDl = toward(v.glucoseMgDl, 48, k)
      v.heartRateBpm += 15 * k
    },
  },
  'device-silent': { rampMs: 0, plateauMs: 26 * HOUR, recoverMs: 0 },
  'battery-drain': { rampMs: 6 * HOUR, plateauMs: 24 * HOUR, recoverMs: 0 },
}

/** 0 before onset and after recovery, 1 on the plateau, linear in between. */
export function intensity(kind: ScenarioKind, sinceStartMs: number): number {
  const d = SCENARIO_DEFINITIONS[kind]
  if (sinceStartMs < 0) return 0
  if (sinceStartMs < d.rampMs) return sinceStartMs / d.rampMs
  const afterPlateau = sinceStartMs - d.rampMs - d.plateauMs
  if (afterPlateau < 0) return 1
  if (afterPlateau < d.recoverMs) return 1 - afterPlateau / d.recoverMs
  return 0
}

export function isActive(s: ScheduledScenario, simMs: number): boolean {
  return intensity(s.kind, simMs - s.startSimMs) > 0
}

export function isScenarioKind(value: string): value is ScenarioKind {
  return (SCENARIOS as readonly string[]).includes(value)
}

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: MIN, h: HOUR, d: 24 * HOUR }

/** "90s", "10m", "2h", "1d"; a bare number is seconds. */
export function parseDuration(text: string): number | undefined {
  const m = DURATION.exec(text.trim())
  return m ? Number(m[1]) * UNIT_MS[m[2] ?? 's'] : undefined
}
