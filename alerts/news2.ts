// NEWS2 (Royal College of Physicians, 2017), pure. Bands from the NEWS2 table in
// ../shared/reference/CLINICAL.md. Integer-banded parameters are banded after rounding half up to an
// integer, temperature after rounding half up to one decimal (worked in tenths to avoid float edges).

export interface News2Input {
  respiratoryRate?: number
  spo2?: number
  systolic?: number
  pulse?: number
  temperature?: number
  /** Supplemental oxygen, from the patient's profile. */
  onOxygen: boolean
  /** Hypercapnic respiratory failure flagged by a clinician: SpO2 scale 2. */
  hypercapnic: boolean
  /** Assumed alert unless reported (remote devices cannot assess ACVPU). */
  consciousness?: 'alert' | 'confused' | 'voice' | 'pain' | 'unresponsive'
}

export type News2Parameter =
  | 'respiratoryRate'
  | 'spo2'
  | 'oxygen'
  | 'systolic'
  | 'pulse'
  | 'consciousness'
  | 'temperature'

export interface News2Result {
  total: number
  breakdown: Partial<Record<News2Parameter, { value: number; points: number; note?: string }>>
  /** Some parameter scored 3 (RCP: urgent ward-based response). */
  anyThree: boolean
}

const roundHalfUp = (v: number) => Math.floor(Number(v.toFixed(6)) + 0.5)
const tenths = (v: number) => Math.floor(Number((v * 10).toFixed(6)) + 0.5)

export function respiratoryRatePoints(v: number): number {
  const r = roundHalfUp(v)
  if (r <= 8) return 3
  if (r <= 11) return 1
  if (r <= 20) return 0
  if (r <= 24) return 2
  return 3
}

export function spo2Scale1Points(v: number): number {
  const s = roundHalfUp(v)
  if (s <= 91) return 3
  if (s <= 93) return 2
  if (s <= 95) return 1
  return 0
}

/** Scale 2: 88-92 % scores 0, and so does >= 93 % on air; on oxygen, high saturations score. */
export function spo2Scale2Points(v: number, onOxygen: boolean): number {
  const s = roundHalfUp(v)
  if (s <= 83) return 3
  if (s <= 85) return 2
  if (s <= 87) return 1
  if (s <= 92 || !onOxygen) return 0
  if (s <= 94) return 1
  if (s <= 96) return 2
  return 3
}

export function oxygenPoints(onOxygen: boolean): number {
  return onOxygen ? 2 : 0
}

export function systolicPoints(v: number): number {
  const s = roundHalfUp(v)
  if (s <= 90) return 3
  if (s <= 100) return 2
  if (s <= 110) return 1
  if (s <= 219) return 0
  return 3
}

export function pulsePoints(v: number): number {
  const p = roundHalfUp(v)
  if (p <= 40) return 3
  if (p <= 50) return 1
  if (p <= 90) return 0
  if (p <= 110) return 1
  if (p <= 130) return 2
  return 3
}

export function temperaturePoints(v: number): number {
  const t = tenths(v)
  if (t <= 350) return 3
  if (t <= 360) return 1
  if (t <= 380) return 0
  if (t <= 390) return 1
  return 2
}

/** Score every parameter present; consciousness counts as alert (0) unless reported. */
export function scoreNews2(i: News2Input): News2Result {
  const breakdown: News2Result['breakdown'] = {}
  const add = (k: News2Parameter, value: number, points: number, note?: string) => {
    breakdown[k] = note ? { value, points, note } : { value, points }
  }
  if (i.respiratoryRate !== undefined)
    add('respiratoryRate', i.respiratoryRate, respiratoryRatePoints(i.respiratoryRate))
  if (i.spo2 !== undefined) {
    if (i.hypercapnic) add('spo2', i.spo2, spo2Scale2Points(i.spo2, i.onOxygen), 'scale 2')
    else add('spo2', i.spo2, spo2Scale1Points(i.spo2), 'scale 1')
  }
  add('oxygen', i.onOxygen ? 1 : 0, oxygenPoints(i.onOxygen), i.onOxygen ? 'oxygen' : 'air')
  if (i.systolic !== undefined) add('systolic', i.systolic, systolicPoints(i.systolic))
  if (i.pulse !== undefined) add('pulse', i.pulse, pulsePoints(i.pulse))
  const c = i.consciousness ?? 'alert'
  add('consciousness', c === 'alert' ? 0 : 1, c === 'alert' ? 0 : 3, i.consciousness ? c : 'alert (assumed)')
  if (i.temperature !== undefined) add('temperature', i.temperature, temperaturePoints(i.temperature))
  let total = 0
  let anyThree = false
  for (const b of Object.values(breakdown)) {
    total += b.points
    if (b.points === 3) anyThree = true
  }
  return { total, breakdown, anyThree }
}
