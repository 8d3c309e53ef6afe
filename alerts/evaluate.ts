import type { Severity } from '../shared/alert.ts'
import type { StoredObservation } from '../shared/fhir.ts'
import type { Condition, Level, RuleSet, ThresholdRule } from './rules.ts'

// Pure rule evaluation: one observation against one threshold rule. No I/O, no clock.

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

export function levelsFor(
  rule: ThresholdRule,
  flags: Record<string, boolean | undefined>,
  override?: { levels?: Level[] },
): Level[] {
  if (override?.levels) return override.levels
  for (const [flag, levels] of Object.entries(rule.flagLevels ?? {})) if (flags[flag]) return levels
  return rule.levels
}

export function evaluateThreshold(
  rule: ThresholdRule,
  obs: StoredObservation,
  levels: Level[],
): Breach | null {
  if (obs.type !== rule.type) return null
  const interp = obs.resource.interpretation?.[0]?.coding[0]?.code
  if (rule.outOfRange && interp === rule.outOfRange && Object.keys(obs.values).length === 0) {
    // LO/HI from a glucometer: beyond what the meter can measure, so the most severe level applies.
    return { severity: levels[0].severity, field: 'value' }
  }
  for (const level of levels) {
    for (const c of level.any) {
      const v = obs.values[c.field]
      if (v !== undefined && holds(v, c))
        return {
          severity: level.severity,
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
export function recovered(rule: ThresholdRule, obs: StoredObservation, levels: Level[]): boolean {
  if (obs.type !== rule.type || Object.keys(obs.values).length === 0) return false
  const least = levels[levels.length - 1]
  return least.any.every((c) => {
    const v = obs.values[c.field]
    if (v === undefined) return true
    const lower = c.op === '<' || c.op === '<='
    return lower ? v >= c.limit + rule.margin : v <= c.limit - rule.margin
  })
}

export function isEnabled(set: RuleSet, ruleId: string, patientId: string): boolean {
  const o = set.patientOverrides[patientId]?.[ruleId]
  if (o?.enabled !== undefined) return o.enabled
  return set.rules.find((r) => r.id === ruleId)?.enabled ?? false
}

const fmt = (v: number) => (Number.isInteger(v) ? String(v) : v.toFixed(1))

/** Text a coordinator can act on at a glance: what, how far out of range, since when. */
export function breachMessage(
  rule: ThresholdRule,
  b: Breach,
  obs: StoredObservation,
  sinceIso: string,
  count: number,
): string {
  const since = count > 1 ? `; ${count} readings since ${sinceIso}` : ` at ${obs.resource.effectiveDateTime}`
  if (b.value === undefined || !b.condition) {
    const side = rule.outOfRange === 'L' ? 'below' : 'above'
    return `${rule.label} ${side} the meter's measuring range (${rule.outOfRange === 'L' ? 'LO' : 'HI'})${since}`
  }
  const side = b.condition.op.startsWith('<') ? 'below' : 'above'
  const what = rule.type === 'blood-pressure' ? `${b.field} ${rule.label.toLowerCase()}` : rule.label
  const bp = rule.type === 'blood-pressure' ? ` (${obs.values.systolic}/${obs.values.diastolic})` : ''
  const advice = rule.advice ? `. ${rule.advice}` : ''
  return `${what} ${fmt(b.value)} ${rule.unit}${bp}, ${fmt(b.beyond!)} ${side} the limit ${b.condition.op} ${fmt(b.condition.limit)}${since}${advice}`
}
