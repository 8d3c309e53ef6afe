import { z } from 'zod'
import { VITAL_TYPES } from '../shared/catalog.ts'
import { VitalwireError } from '../shared/errors.ts'

// Rules are data, validated with zod and discriminated by `kind`. The default set (default-rules.ts) is
// the table "Default alert rules" in ../shared/reference/CLINICAL.md; every number there is configurable
// per program and per patient.

export const severitySchema = z.enum(['critical', 'high', 'medium', 'low'])
const ruleId = z.string().regex(/^[a-z0-9-]+$/, 'lower-case letters, digits and "-" only')
const positive = z.number().positive()
const condition = z.object({
  field: z.string().default('value'),
  op: z.enum(['<', '<=', '>', '>=']),
  limit: z.number(),
})
const level = z.object({ severity: severitySchema, any: z.array(condition).min(1) })
export const FLAGS = ['hypercapnic', 'onOxygen', 'heartFailure'] as const

const common = {
  id: ruleId,
  label: z.string().min(1),
  advice: z.string().optional(),
  enabled: z.boolean().default(true),
  /** Only for patients with this profile flag (e.g. weight gain for heart failure). */
  onlyFlag: z.enum(FLAGS).optional(),
}

const thresholdFields = {
  ...common,
  type: z.enum(VITAL_TYPES),
  /** Most severe first; the first level whose condition holds wins. */
  levels: z.array(level).min(1),
  /** Levels used instead for patients with this profile flag (e.g. hypercapnic -> SpO2 target 88 %). */
  flagLevels: z.partialRecord(z.enum(FLAGS), z.array(level).min(1)).optional(),
  /** Alert only after N consecutive breaching readings. */
  consecutive: z.number().int().min(1).default(1),
  /** Hysteresis: back inside the limits by this margin before the alert may auto-resolve. */
  margin: z.number().min(0).default(0),
  /** Glucometer LO/HI readings have no value; this says which of them breaches the rule. */
  outOfRange: z.enum(['L', 'H']).optional(),
  unit: z.string(),
}

export const thresholdRuleSchema = z.object({ kind: z.literal('threshold'), ...thresholdFields })
/** Out of range without a break for `forMinutes` (every reading in that span breaches). */
export const sustainedRuleSchema = z.object({
  kind: z.literal('sustained'),
  ...thresholdFields,
  forMinutes: positive,
})
/** A rise of at least `rise` within `hours`, from stored history (heart-failure weight gain). */
export const trendRuleSchema = z.object({
  kind: z.literal('trend'),
  ...common,
  type: z.enum(VITAL_TYPES),
  field: z.string().default('value'),
  windows: z.array(z.object({ hours: positive, rise: positive })).min(1),
  severity: severitySchema,
  margin: z.number().min(0).default(0),
  unit: z.string(),
})
export const news2RuleSchema = z.object({
  kind: z.literal('news2'),
  ...common,
  /** Latest value of each parameter within this window (RCP NEWS2; default 1 h). */
  windowMinutes: positive.default(60),
  severities: z
    .object({ anyParameter3: severitySchema, total5: severitySchema, total7: severitySchema })
    .default({ anyParameter3: 'medium', total5: 'high', total7: 'critical' }),
})
export const noDataRuleSchema = z.object({
  kind: z.literal('no-data'),
  ...common,
  severity: severitySchema.default('low'),
  /** Silent after this long when no cadence is known (CLINICAL.md default 24 h). */
  afterHours: positive.default(24),
  /** Silent after this many expected readings are missing, when the cadence is known. */
  missedReadings: positive.default(2),
  /** Never call a device silent sooner than this, whatever its cadence. */
  minSilentMinutes: positive.default(60),
  /** Expected minutes between readings, by device type (e.g. a mapping name) or vital type. */
  cadenceMinutes: z.record(z.string(), positive).default({}),
})
export const deviceOfflineRuleSchema = z.object({
  kind: z.literal('device-offline'),
  ...common,
  severity: severitySchema.default('low'),
  offlineHours: positive.default(24),
  batteryPct: z.number().min(0).max(100).default(15),
  /**
   * A low battery stays low until it is above batteryPct + batteryMargin: a reading that wavers around
   * the limit (15 %, 16 %, 15 %) does not open and close an alert each time.
   */
  batteryMargin: z.number().min(0).max(100).default(5),
})

export const ruleSchema = z.discriminatedUnion('kind', [
  thresholdRuleSchema,
  sustainedRuleSchema,
  trendRuleSchema,
  news2RuleSchema,
  noDataRuleSchema,
  deviceOfflineRuleSchema,
])
export type Rule = z.infer<typeof ruleSchema>
export type ThresholdRule = z.infer<typeof thresholdRuleSchema>
export type SustainedRule = z.infer<typeof sustainedRuleSchema>
export type TrendRule = z.infer<typeof trendRuleSchema>
export type News2Rule = z.infer<typeof news2RuleSchema>
export type NoDataRule = z.infer<typeof noDataRuleSchema>
export type DeviceOfflineRule = z.infer<typeof deviceOfflineRuleSchema>
export type Condition = z.infer<typeof condition>
export type Level = z.infer<typeof level>

const programSchema = z.object({
  /** Rule ids switched on for this program; absent = every rule that is enabled by default. */
  rules: z.array(ruleId).optional(),
  disabled: z.array(ruleId).default([]),
  /** Vital types the program requires (no-data); absent = every type the patient has sent. */
  requiredTypes: z.array(z.enum(VITAL_TYPES)).optional(),
  /** Expected minutes between readings of a vital type in this program (no-data). */
  cadenceMinutes: z.record(z.string(), positive).default({}),
})
export type Program = z.infer<typeof programSchema>

export const ruleSetSchema = z
  .object({
    rules: z.array(ruleSchema),
    /** Per patient, per rule id: fields replacing the rule's own (`enabled`, `levels`, `windows`, ...). */
    patientOverrides: z
      .record(z.string(), z.record(ruleId, z.looseObject({ enabled: z.boolean().optional() })))
      .default({}),
    programs: z.record(z.string(), programSchema).default({}),
    /** Patient id -> program name; patients not listed follow every default-enabled rule. */
    patientPrograms: z.record(z.string(), z.string()).default({}),
    /** Auto-resolve after values stay inside the band plus margin for this long (default 30 min). */
    resolveAfterMs: z
      .number()
      .int()
      .min(0)
      .default(30 * 60_000),
  })
  .superRefine((set, ctx) => {
    const ids = new Set<string>()
    set.rules.forEach((r, i) => {
      if (ids.has(r.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: 'duplicate id' })
      ids.add(r.id)
    })
    const known = (path: (string | number)[], id: string) => {
      if (!ids.has(id)) ctx.addIssue({ code: 'custom', path, message: `unknown rule id "${id}"` })
    }
    for (const [pid, byRule] of Object.entries(set.patientOverrides))
      for (const [id, o] of Object.entries(byRule)) {
        const base = set.rules.find((r) => r.id === id)
        if (!base) known(['patientOverrides', pid, id], id)
        else mergedIssues(base, o, ['patientOverrides', pid, id], ctx)
      }
    for (const [name, p] of Object.entries(set.programs))
      for (const [i, id] of [...(p.rules ?? []), ...p.disabled].entries()) known(['programs', name, i], id)
    for (const [pid, name] of Object.entries(set.patientPrograms))
      if (!set.programs[name])
        ctx.addIssue({ code: 'custom', path: ['patientPrograms', pid], message: `unknown program "${name}"` })
  })
export type RuleSet = z.infer<typeof ruleSetSchema>

function mergedIssues(base: Rule, o: object, path: (string | number)[], ctx: z.RefinementCtx) {
  if ('id' in o || 'kind' in o) ctx.addIssue({ code: 'custom', path, message: 'cannot override id or kind' })
  const r = ruleSchema.safeParse({ ...base, ...o })
  if (!r.success) for (const i of r.error.issues) ctx.addIssue({ ...i, path: [...path, ...i.path] } as never)
}

/** A rule with one patient's override applied (validated when the set was parsed). */
export function applyOverride(base: Rule, o: object | undefined): Rule {
  if (!o) return base
  const merged: Record<string, unknown> = { ...base, ...o, id: base.id, kind: base.kind }
  // A patient's own levels win over flag levels (the override is the clinician's explicit target).
  if ('levels' in o && !('flagLevels' in o)) delete merged.flagLevels
  return ruleSchema.parse(merged)
}

/** Parse a candidate rule set; one error lists every problem with its JSON path. */
export function parseRuleSet(input: unknown, source = 'rule set'): RuleSet {
  const r = ruleSetSchema.safeParse(input)
  if (r.success) return r.data
  const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
  throw new VitalwireError('VW_ERR_RULES_INVALID', `${source} is invalid:\n${lines.join('\n')}`)
}
