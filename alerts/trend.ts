import type { StoredObservation } from '../shared/fhir.ts'
import { fmt } from './evaluate.ts'
import type { TrendRule } from './rules.ts'

// Pure trend evaluation (heart-failure weight gain): the rise from the lowest value within each window
// to this reading, from stored history. The lowest value, not the one exactly 24 h before, so a gain is
// caught whatever time of day the patient weighs.

export interface TrendBreach {
  hours: number
  limit: number
  rise: number
  value: number
  baseline: StoredObservation
}

const HOUR_MS = 3_600_000

export function evaluateTrend(
  rule: TrendRule,
  obs: StoredObservation,
  earlierDesc: StoredObservation[],
): { breach: TrendBreach | null; recovered: boolean } {
  const value = obs.values[rule.field]
  if (value === undefined) return { breach: null, recovered: false }
  let breach: TrendBreach | null = null
  let recovered = true
  for (const w of rule.windows) {
    let baseline: StoredObservation | undefined
    for (const o of earlierDesc) {
      if (obs.effectiveMs - o.effectiveMs > w.hours * HOUR_MS) break
      const v = o.values[rule.field]
      if (o.key !== obs.key && v !== undefined && (!baseline || v < baseline.values[rule.field])) baseline = o
    }
    if (!baseline) continue
    // Weights are kept to 0.01 kg (CLINICAL.md); compare at that precision, not in float noise.
    const rise = Math.round((value - baseline.values[rule.field]) * 100) / 100
    if (rise >= w.rise && (!breach || rise / w.rise > breach.rise / breach.limit))
      breach = { hours: w.hours, limit: w.rise, rise, value, baseline }
    if (rise > w.rise - rule.margin) recovered = false
  }
  return { breach, recovered: !breach && recovered }
}

/** The alert's text; how many readings and since when are the alert's own fields (see breachMessage). */
export function trendMessage(rule: TrendRule, b: TrendBreach): string {
  const window = b.hours % 24 === 0 && b.hours > 24 ? `${b.hours / 24} days` : `${b.hours} h`
  const advice = rule.advice ? `. ${rule.advice}` : ''
  return (
    `${rule.label} ${fmt(b.value)} ${rule.unit}, up ${b.rise.toFixed(1)} ${rule.unit} in ${window} ` +
    `(from ${fmt(b.baseline.values[rule.field])} ${rule.unit} at ${b.baseline.effective}; ` +
    `limit ${fmt(b.limit)} ${rule.unit})${advice}`
  )
}
