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
  const lowestWithin = (hours: number) => {
    let baseline: StoredObservation | undefined
    for (const o of earlierDesc) {
      if (obs.effectiveMs - o.effectiveMs > hours * HOUR_MS) break
      const v = o.values[rule.field]
      if (o.key !== obs.key && v !== undefined && (!baseline || v < baseline.values[rule.field])) baseline = o
    }
    return baseline
  }
  // Weights are kept to 0.01 kg (CLINICAL.md); compare at that precision, not in float noise.
  const riseFrom = (baseline: StoredObservation) =>
    Math.round((value - baseline.values[rule.field]) * 100) / 100
  for (const w of rule.windows) {
    const baseline = lowestWithin(w.hours)
    if (!baseline) continue
    const rise = riseFrom(baseline)
    if (rise >= w.rise && (!breach || rise / w.rise > breach.rise / breach.limit))
      breach = { hours: w.hours, limit: w.rise, rise, value, baseline }
  }
  // Back in range means the gain is gone, not that it stopped growing: within the smallest allowed
  // rise (less the margin) of the lowest value of the longest window. Judged per window, 80.0, 81.5
  // and 82.0 kg on three days read as recovered on the third (+0.5 in 24 h, +2.0 < 2.3 in 7 days), and
  // the alert resolved while the patient kept the 2 kg.
  const lowest = lowestWithin(Math.max(...rule.windows.map((w) => w.hours)))
  const smallest = Math.min(...rule.windows.map((w) => w.rise))
  const recovered = !breach && (!lowest || riseFrom(lowest) <= smallest - rule.margin)
  return { breach, recovered }
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
