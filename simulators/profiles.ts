import type { Rng } from './prng.ts'

// Clinical profiles: a patient's resting baseline, drawn once per patient from the profile's
// distribution. Numbers are chosen so a profile's everyday values stay clear of the default alert
// thresholds (../shared/reference/CLINICAL.md): alerts come from scenarios, not from noise.

export const PROFILES = ['healthy', 'hypertension', 'copd', 'heart-failure', 'diabetes'] as const
export type Profile = (typeof PROFILES)[number]
export type ProfileChoice = Profile | 'mixed'

export type DeviceKind = 'wearable' | 'cuff' | 'scale' | 'glucometer' | 'oximeter' | 'thermometer'

export interface Baseline {
  heartRateBpm: number
  respiratoryRatePerMin: number
  spo2Pct: number
  temperatureCel: number
  systolicMmHg: number
  diastolicMmHg: number
  weightKg: number
  /** Fasting (pre-meal) capillary glucose. */
  glucoseMgDl: number
}

interface Spread {
  mean: number
  sd: number
  min: number
  max: number
}

const s = (mean: number, sd: number, min: number, max: number): Spread => ({ mean, sd, min, max })

interface ProfileDefinition {
  baseline: Record<keyof Baseline, Spread>
  devices: DeviceKind[]
  /** Registry flags: COPD patients with hypercapnia use NEWS2 SpO2 scale 2 and an 88 % target. */
  flags?: Record<string, boolean>
}

const healthy: ProfileDefinition['baseline'] = {
  heartRateBpm: s(68, 7, 55, 85),
  respiratoryRatePerMin: s(14, 1.5, 12, 18),
  spo2Pct: s(97.5, 0.8, 96, 99),
  temperatureCel: s(36.7, 0.15, 36.4, 37.0),
  systolicMmHg: s(118, 7, 105, 130),
  diastolicMmHg: s(76, 5, 65, 84),
  weightKg: s(75, 12, 50, 110),
  glucoseMgDl: s(92, 6, 80, 105),
}

export const PROFILE_DEFINITIONS: Record<Profile, ProfileDefinition> = {
  healthy: { baseline: healthy, devices: ['wearable', 'scale'] },
  // Stage 2 range on treatment; kept below the bp-high default (160/100) between episodes.
  hypertension: {
    baseline: {
      ...healthy,
      heartRateBpm: s(74, 7, 60, 88),
      systolicMmHg: s(146, 5, 138, 152),
      diastolicMmHg: s(90, 3, 84, 94),
      weightKg: s(88, 12, 60, 120),
    },
    devices: ['cuff', 'scale', 'wearable'],
  },
  // Hypercapnic COPD: target 88-92 % (BTS), so the spo2-low rule uses the 88 % flag level.
  copd: {
    baseline: {
      ...healthy,
      heartRateBpm: s(84, 6, 72, 95),
      respiratoryRatePerMin: s(19, 1.2, 17, 21),
      spo2Pct: s(92, 0.6, 91, 93),
    },
    devices: ['oximeter', 'thermometer', 'wearable'],
    flags: { hypercapnic: true },
  },
  'heart-failure': {
    baseline: {
      ...healthy,
      heartRateBpm: s(76, 6, 62, 90),
      spo2Pct: s(95.5, 0.6, 94.5, 97),
      systolicMmHg: s(114, 7, 100, 128),
      diastolicMmHg: s(70, 5, 60, 80),
      weightKg: s(84, 13, 55, 120),
    },
    devices: ['scale', 'cuff', 'wearable'],
    // The weight-gain rules apply only to patients flagged with heart failure (alerts/default-rules.ts).
    flags: { heartFailure: true },
  },
  // Type 2 diabetes, moderately controlled: pre-meal 110-170 mg/dL, clear of glucose-low (< 70).
  diabetes: {
    baseline: {
      ...healthy,
      systolicMmHg: s(132, 6, 122, 142),
      diastolicMmHg: s(82, 4, 74, 88),
      weightKg: s(92, 14, 65, 130),
      glucoseMgDl: s(140, 15, 115, 165),
    },
    devices: ['glucometer', 'cuff', 'scale'],
  },
}

const clamp = (v: number, min: number, max: number) => Math.min(max, Math.max(min, v))

export function drawBaseline(profile: Profile, rng: Rng): Baseline {
  const spread = PROFILE_DEFINITIONS[profile].baseline
  const out = {} as Baseline
  for (const key of Object.keys(spread) as (keyof Baseline)[]) {
    const p = spread[key]
    out[key] = clamp(rng.normal(p.mean, p.sd), p.min, p.max)
  }
  return out
}

/** The profile of the patient at `index` (0-based): `mixed` cycles through all of them. */
export function profileAt(choice: ProfileChoice, index: number): Profile {
  return choice === 'mixed' ? PROFILES[index % PROFILES.length] : choice
}
