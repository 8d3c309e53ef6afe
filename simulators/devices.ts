import { roundTo } from '../shared/catalog.ts'
import type { Rng } from './prng.ts'
import type { DeviceKind } from './profiles.ts'
import type { ScenarioKind, Vitals } from './scenarios.ts'

// What each kind of home device measures, when, in which unit, and how noisily. Cadences are in
// simulated time: a cuff twice a day, a scale each morning, a glucometer before meals, a wearable every
// few seconds. Noise figures are typical device accuracy (pulse oximeters ±2 % ARMS, cuffs ±3-5 mm[Hg],
// glucometers ~4 % CV within ISO 15197 limits).

/** The canonical reading of the public contract, as the simulator builds it (no `id`/`ts` yet). */
export interface Measurement {
  type: string
  value?: number | string
  unit?: string
  systolic?: number
  diastolic?: number
  pulse?: number
}

export interface DeviceTraits {
  /** Some scales, thermometers and glucometers are set to US units; ingest must convert them. */
  usUnits: boolean
  /** Battery percent at simulated time 0 and how fast it drains (percent per simulated hour). */
  batteryStartPct: number
  batteryDrainPctPerH: number
}

const MIN = 60_000
const HOUR = 60 * MIN
const DAY = 24 * HOUR

interface KindDefinition {
  /** Every `everyMs`, or at these times of day (hours, simulated UTC) with a jitter. */
  everyMs?: number
  atHours?: number[]
  jitterMs?: number
  drainPctPerH: number
  usUnitsChance: number
  /** Scenarios that make the patient take an extra spot check with this device. */
  symptomatic: ScenarioKind[]
  measure(v: Vitals, rng: Rng, us: boolean): Measurement[]
}

const int = (x: number) => Math.round(x)
/** Measurement error, truncated at 2.5 sd: devices have bounded error, not Gaussian tails. */
const noisy = (rng: Rng, mean: number, sd: number) =>
  mean + Math.max(-2.5 * sd, Math.min(2.5 * sd, rng.normal(0, sd)))
const spo2 = (x: number) => Math.min(100, int(x))

export const DEVICE_KINDS: Record<DeviceKind, KindDefinition> = {
  wearable: {
    everyMs: 5_000,
    drainPctPerH: 0.8,
    usUnitsChance: 0,
    symptomatic: [],
    measure: (v, rng) => [
      { type: 'heart-rate', value: int(noisy(rng, v.heartRateBpm, 2)), unit: 'bpm' },
      { type: 'spo2', value: spo2(noisy(rng, v.spo2Pct, 0.7)), unit: '%' },
      { type: 'respiratory-rate', value: int(noisy(rng, v.respiratoryRatePerMin, 0.8)), unit: '/min' },
    ],
  },
  cuff: {
    atHours: [7.5, 19.5],
    jitterMs: 20 * MIN,
    drainPctPerH: 0.02,
    usUnitsChance: 0,
    symptomatic: ['hypertensive-crisis'],
    measure: (v, rng) => {
      const diastolic = int(noisy(rng, v.diastolicMmHg, 3))
      return [
        {
          type: 'blood-pressure',
          systolic: Math.max(diastolic + 15, int(noisy(rng, v.systolicMmHg, 4))),
          diastolic,
          pulse: int(noisy(rng, v.heartRateBpm, 2)),
          unit: 'mmHg',
        },
      ]
    },
  },
  scale: {
    atHours: [7],
    jitterMs: 30 * MIN,
    drainPctPerH: 0.01,
    usUnitsChance: 0.3,
    symptomatic: ['weight-gain'],
    measure: (v, rng, us) => {
      const kg = noisy(rng, v.weightKg, 0.1)
      return [
        {
          type: 'body-weight',
          value: us ? roundTo(kg / 0.45359237, 1) : roundTo(kg, 1),
          unit: us ? 'lb' : 'kg',
        },
      ]
    },
  },
  glucometer: {
    // Before breakfast, lunch and dinner.
    atHours: [7, 11.75, 17.75],
    jitterMs: 15 * MIN,
    drainPctPerH: 0.01,
    usUnitsChance: 0.4,
    symptomatic: ['hypoglycemia'],
    measure: (v, rng, us) => {
      const mgDl = Math.max(20, noisy(rng, v.glucoseMgDl, v.glucoseMgDl * 0.04))
      // Outside the US meters commonly read mmol/L; `usUnits` here means mg/dL, the US default.
      return [
        us
          ? { type: 'blood-glucose', value: int(mgDl), unit: 'mg/dL' }
          : { type: 'blood-glucose', value: roundTo(mgDl / 18.016, 1), unit: 'mmol/L' },
      ]
    },
  },
  oximeter: {
    atHours: [8, 14, 20],
    jitterMs: 20 * MIN,
    drainPctPerH: 0.03,
    usUnitsChance: 0,
    symptomatic: ['desaturation', 'fever'],
    measure: (v, rng) => [
      { type: 'spo2', value: spo2(noisy(rng, v.spo2Pct, 0.7)), unit: '%' },
      { type: 'heart-rate', value: int(noisy(rng, v.heartRateBpm, 2)), unit: 'bpm' },
    ],
  },
  thermometer: {
    atHours: [8],
    jitterMs: 30 * MIN,
    drainPctPerH: 0.005,
    usUnitsChance: 0.3,
    symptomatic: ['fever'],
    measure: (v, rng, us) => {
      const cel = noisy(rng, v.temperatureCel, 0.1)
      return [
        us
          ? { type: 'body-temperature', value: roundTo(cel * 1.8 + 32, 1), unit: 'degF' }
          : { type: 'body-temperature', value: roundTo(cel, 1), unit: 'Cel' },
      ]
    },
  },
}

export function drawTraits(kind: DeviceKind, rng: Rng): DeviceTraits {
  const k = DEVICE_KINDS[kind]
  return {
    usUnits: rng.chance(k.usUnitsChance),
    batteryStartPct: rng.uniform(45, 100),
    batteryDrainPctPerH: k.drainPctPerH,
  }
}

/** Next scheduled measurement strictly after `afterSimMs` (no symptom checks). */
export function nextScheduledMs(kind: DeviceKind, afterSimMs: number, rng: Rng): number {
  const k = DEVICE_KINDS[kind]
  if (k.everyMs) return afterSimMs + k.everyMs
  const dayStart = Math.floor(afterSimMs / DAY) * DAY
  const jitter = k.jitterMs ?? 0
  for (let d = 0; d < 2; d++) {
    for (const h of k.atHours ?? []) {
      // The next slot whose whole jitter window lies ahead, so one slot never yields two measurements.
      const nominal = dayStart + d * DAY + h * HOUR
      if (nominal - jitter > afterSimMs) return nominal + rng.uniform(-1, 1) * jitter
    }
  }
  return afterSimMs + DAY
}

/**
 * Battery percent: drains linearly and is recharged at 20 % (people charge when the device nags), so
 * a fleet shows a spread of levels. The battery-drain scenario overrides this.
 */
export function batteryPct(t: DeviceTraits, simMs: number): number {
  const used = 100 - t.batteryStartPct + (t.batteryDrainPctPerH * simMs) / HOUR
  return int(100 - (((used % 80) + 80) % 80))
}
