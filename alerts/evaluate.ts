import type { Severity } from '../shared/alert.ts'
import type { StoredObservation } from '../shared/fhir.ts'
import type { Condition, Level, RuleSet, SustainedRule, ThresholdRule } from './rules.ts'

// Pure threshold evaluation: one observation against one threshold (or sustained) rule. No I/O, no
// clock. This is the hot path (bench/alerts.ts): it allocates only when a reading breaches.

export type ThresholdLike = ThresholdRule | SustainedRule

export interface Breach {
  severity: Severity
  /** The value that breached (for BP the component named in `field`). */
  value?: number
  field: string
  condition?: Condition
  /** How far past the limit, in the rule's unit (positive). */
  beyond?: number
}

const holds = (v: number, c: Condition) =>
  c.op === '<' ? v < c.limit : c.op === '<=' ? v <= c.limit : c.op === '>' ? v > c.limit : v >= c.limit

function isEmpty(values: Record<string, number>): boolean {
  for (const _ in values) return false
  return true
}

/** The levels for this patient: flag-specific levels (e.g. hypercapnic SpO2 target) or the rule's own. */
export function levelsFor(rule: ThresholdLike, flags: Record<string, boolean | undefined>): Level[] {
  const byFlag = rule.flagLevels
  if (byFlag) for (const flag in byFlag) if (flags[flag]) return byFlag[flag as keyof typeof byFlag]!
  return rule.levels
}

export function evaluateThreshold(
  rule: ThresholdLike,
  obs: StoredObservation,
  levels: Level[],
): Breach | null {
  if (obs.type !== rule.type) return null
  if (rule.outOfRange && isEmpty(obs.values)) {
    // LO/HI from a glucometer: beyond what the meter can measure, so the most severe level applies.
    return obs.outOfRange === rule.outOfRange ? { severity: levels[0].severity, field: 'value' } : null
  }
  for (let i = 0; i < levels.length; i++) {
    const any = levels[i].any
    for (let j = 0; j < any.length; j++) {
      const c = any[j]
      const v = obs.values[c.field]
      if (v !== undefined && holds(v, c))
        return {
          severity: levels[i].severity,
          value: v,
          field: c.field,
          condition: c,
          beyond: Math.abs(v - c.limit),
        }
    }
  }
  return null
}

/** Inside the normal band by at least the rule's margin: the value has recovered (hysteresis). */
export function recovered(rule: ThresholdLike, obs: StoredObservation, levels: Level[]): boolean {
  if (obs.type !== rule.type || isEmpty(obs.values)) return false
  const least = levels[levels.length - 1].any
  for (let j = 0; j < least.length; j++) {
    const c = least[j]
    const v = obs.values[c.field]
    if (v === undefined) continue
    const lower = c.op === '<' || c.op === '<='
    if (lower ? v < c.limit + rule.margin : v > c.limit - rule.margin) return false
  }
  return true
}

/** The N-1 readings before this one (newest first) breach too. */
export function consecutiveMet(
  rule: ThresholdLike,
  levels: Level[],
  earlierDesc: StoredObservation[],
): boolean {
  const need = rule.consecutive - 1
  if (earlierDesc.length < need) return false
  for (let i = 0; i < need; i++) if (!evaluateThreshold(rule, earlierDesc[i], levels)) return false
  return true
}

/** Start of the unbroken run of breaching readings that ends with `obs` (newest-first history). */
export function breachRunStartMs(
  rule: ThresholdLike,
  levels: Level[],
  obs: StoredObservation,
  earlierDesc: StoredObservation[],
  forMs: number,
): number {
  let start = obs.effectiveMs
  for (const o of earlierDesc) {
    if (!evaluateThreshold(rule, o, levels)) break
    start = o.effectiveMs
    if (obs.effectiveMs - start >= forMs) break
  }
  return start
}

export function isEnabled(set: RuleSet, ruleId: string, patientId: string): boolean {
  const o = set.patientOverrides[patientId]?.[ruleId]
  if (o?.enabled !== undefined) return o.enabled
  const program = set.programs[set.patientPrograms[patientId] ?? '']
  if (program?.disabled.includes(ruleId)) return false
  if (program?.rules) return program.rules.includes(ruleId)
  return set.rules.find((r) => r.id === ruleId)?.enabled ?? false
}

export const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1))

export function fmtDuration(ms: number): string {
  const min = Math.round(ms / 60_000)
  if (min < 60) return `${min} min`
  const h = Math.floor(min / 60)
  if (h < 48) return min % 60 ? `${h} h ${min % 60} min` : `${h} h`
  return `${Math.round(h / 24)} days`
}

/**
 * Text a coordinator can act on at a glance: what, how far out of range, when. It describes the
 * alert's latest breaching reading. How many readings and since when are the alert's
 * own fields (count, firstSeenAt), shown beside the text, not in it: a text that grew a clause on the
 * second reading moved everything below it on the coordinator's screen.
 */
export function breachMessage(
  rule: ThresholdLike,
  b: Breach,
  obs: StoredObservation,
  sustainedMs?: number,
): string {
  const lasting = sustainedMs !== undefined ? `, out of range for ${fmtDuration(sustainedMs)}` : ''
  const at = ` at ${obs.effective}`
  if (b.value === undefined || !b.condition) {
    const side = rule.outOfRange === 'L' ? 'below' : 'above'
    return `${rule.label} ${side} the meter's measuring range (${rule.outOfRange === 'L' ? 'LO' : 'HI'})${at}`
  }
  const side = b.condition.op.startsWith('<') ? 'below' : 'above'
  const label = rule.label.toLowerCase()
  const what =
    rule.type !== 'blood-pressure' ? rule.label : label.startsWith(b.field) ? label : `${b.field} ${label}`
  const bp = rule.type === 'blood-pressure' ? ` (${obs.values.systolic}/${obs.values.diastolic})` : ''
  const advice = rule.advice ? `. ${rule.advice}` : ''
  return `${what} ${fmt(b.value)} ${rule.unit}${bp}, ${fmt(b.beyond!)} ${side} the limit ${b.condition.op} ${fmt(b.condition.limit)}${lasting}${at}${advice}`
}
