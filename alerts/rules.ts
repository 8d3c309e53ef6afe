import { z } from 'zod'
import { VITAL_TYPES } from '../shared/catalog.ts'

// Rules are data, validated with zod. The default set is the table "Default alert rules" in
// ../shared/reference/CLINICAL.md; every number there is used exactly, and all are configurable.

const severity = z.enum(['critical', 'high', 'medium', 'low'])
const condition = z.object({
  field: z.string().default('value'),
  op: z.enum(['<', '<=', '>', '>=']),
  limit: z.number(),
})
const level = z.object({ severity, any: z.array(condition).min(1) })

export const thresholdRuleSchema = z.object({
  id: z.string().regex(/^[a-z0-9-]+$/),
  kind: z.literal('threshold'),
  type: z.enum(VITAL_TYPES),
  /** Most severe first; the first level whose condition holds wins. */
  levels: z.array(level).min(1),
  /** Levels used instead for patients with this profile flag (e.g. hypercapnic -> SpO2 target 88 %). */
  flagLevels: z.record(z.string(), z.array(level).min(1)).optional(),
  /** Alert only after N consecutive breaching readings. */
  consecutive: z.number().int().min(1).default(1),
  /** Hysteresis: back inside the limits by this margin before the alert may auto-resolve. */
  margin: z.number().min(0).default(0),
  /** Glucometer LO/HI readings have no value; this says which of them breaches the rule. */
  outOfRange: z.enum(['L', 'H']).optional(),
  unit: z.string(),
  label: z.string(),
  advice: z.string().optional(),
  enabled: z.boolean().default(true),
})

export const ruleSchema = z.discriminatedUnion('kind', [thresholdRuleSchema])
export type ThresholdRule = z.infer<typeof thresholdRuleSchema>
export type Rule = z.infer<typeof ruleSchema>
export type Condition = z.infer<typeof condition>
export type Level = z.infer<typeof level>

export const ruleSetSchema = z.object({
  rules: z.array(ruleSchema),
  /** Per-patient overrides by rule id: replace levels or switch a rule off. */
  patientOverrides: z
    .record(
      z.string(),
      z.record(z.string(), z.object({ enabled: z.boolean().optional(), levels: z.array(level).optional() })),
    )
    .default({}),
  /** Auto-resolve after values stay inside the band plus margin for this long (default 30 min). */
  resolveAfterMs: z
    .number()
    .int()
    .min(0)
    .default(30 * 60_000),
})
export type RuleSet = z.infer<typeof ruleSetSchema>

const lt = (limit: number, field = 'value') => ({ field, op: '<' as const, limit })
const le = (limit: number, field = 'value') => ({ field, op: '<=' as const, limit })
const gt = (limit: number, field = 'value') => ({ field, op: '>' as const, limit })
const ge = (limit: number, field = 'value') => ({ field, op: '>=' as const, limit })

export const DEFAULT_RULES: RuleSet = ruleSetSchema.parse({
  rules: [
    {
      id: 'spo2-low',
      kind: 'threshold',
      type: 'spo2',
      levels: [
        { severity: 'critical', any: [lt(85)] },
        { severity: 'high', any: [lt(90)] },
      ],
      flagLevels: {
        hypercapnic: [
          { severity: 'critical', any: [lt(85)] },
          { severity: 'high', any: [lt(88)] },
        ],
      },
      margin: 2,
      unit: '%',
      label: 'SpO2',
    },
    {
      id: 'hr-high',
      kind: 'threshold',
      type: 'heart-rate',
      levels: [{ severity: 'high', any: [gt(130)] }],
      margin: 5,
      unit: '/min',
      label: 'Heart rate',
    },
    {
      id: 'hr-low',
      kind: 'threshold',
      type: 'heart-rate',
      levels: [{ severity: 'high', any: [lt(40)] }],
      margin: 5,
      unit: '/min',
      label: 'Heart rate',
    },
    {
      id: 'rr-high',
      kind: 'threshold',
      type: 'respiratory-rate',
      levels: [{ severity: 'high', any: [ge(25)] }],
      margin: 0,
      unit: '/min',
      label: 'Respiratory rate',
    },
    {
      id: 'rr-low',
      kind: 'threshold',
      type: 'respiratory-rate',
      levels: [{ severity: 'high', any: [le(8)] }],
      margin: 0,
      unit: '/min',
      label: 'Respiratory rate',
    },
    {
      id: 'bp-crisis',
      kind: 'threshold',
      type: 'blood-pressure',
      levels: [{ severity: 'critical', any: [gt(180, 'systolic'), gt(120, 'diastolic')] }],
      margin: 5,
      unit: 'mm[Hg]',
      label: 'Blood pressure',
      advice: 'AHA: re-measure after 1-2 minutes; act on symptoms of organ damage at once',
    },
    {
      id: 'bp-high',
      kind: 'threshold',
      type: 'blood-pressure',
      levels: [{ severity: 'medium', any: [ge(160, 'systolic'), ge(100, 'diastolic')] }],
      consecutive: 2,
      margin: 5,
      unit: 'mm[Hg]',
      label: 'Blood pressure',
    },
    {
      id: 'bp-low',
      kind: 'threshold',
      type: 'blood-pressure',
      levels: [{ severity: 'high', any: [lt(90, 'systolic')] }],
      margin: 5,
      unit: 'mm[Hg]',
      label: 'Systolic blood pressure',
    },
    {
      id: 'temp-fever',
      kind: 'threshold',
      type: 'body-temperature',
      levels: [
        { severity: 'high', any: [ge(39.1)] },
        { severity: 'medium', any: [ge(38.0)] },
      ],
      margin: 0.2,
      unit: 'Cel',
      label: 'Temperature',
    },
    {
      id: 'temp-low',
      kind: 'threshold',
      type: 'body-temperature',
      levels: [{ severity: 'high', any: [le(35.0)] }],
      margin: 0.2,
      unit: 'Cel',
      label: 'Temperature',
    },
    {
      id: 'glucose-low',
      kind: 'threshold',
      type: 'blood-glucose',
      levels: [
        { severity: 'critical', any: [lt(54)] },
        { severity: 'high', any: [lt(70)] },
      ],
      outOfRange: 'L',
      margin: 10,
      unit: 'mg/dL',
      label: 'Glucose',
    },
    {
      id: 'glucose-high',
      kind: 'threshold',
      type: 'blood-glucose',
      levels: [
        { severity: 'high', any: [gt(400)] },
        { severity: 'medium', any: [gt(250)] },
      ],
      outOfRange: 'H',
      margin: 10,
      unit: 'mg/dL',
      label: 'Glucose',
    },
  ],
})
