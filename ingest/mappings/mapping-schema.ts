import { z } from 'zod'
import { VITAL_TYPES } from '../../shared/catalog.ts'
import { compilePath } from './json-path.ts'

// The declarative device-mapping format (configuration, not code). A mapping is a list of templates;
// each template that matches a vendor document yields canonical readings, which then run through the
// normal validation path (schema, units, plausibility, time). docs/ingest.md describes the format.

export const MAX_TEMPLATES = 16

const path = z
  .string()
  .min(1)
  .max(200)
  .superRefine((s, ctx) => {
    const c = compilePath(s)
    if (!c.ok) ctx.addIssue({ code: 'custom', message: c.message })
    else if (c.path.wildcard)
      ctx.addIssue({ code: 'custom', message: `[*] is only allowed in forEach: ${s}` })
  })

const forEachPath = z
  .string()
  .min(1)
  .max(200)
  .superRefine((s, ctx) => {
    const c = compilePath(s)
    if (!c.ok) ctx.addIssue({ code: 'custom', message: c.message })
    else if (!c.path.wildcard || c.path.root !== '$')
      ctx.addIssue({ code: 'custom', message: `forEach must be a $ path ending in [*]: ${s}` })
  })

const scalar = z.union([z.string().max(64), z.number().finite(), z.boolean()])

/** Where a canonical field comes from: a path, a path with a lookup or scale, a constant, or a join. */
export const fieldSchema = z.union([
  path,
  z.strictObject({
    path,
    /** Lookup on the value as a string, e.g. a unit flag { "0": "mm[Hg]", "1": "kPa" }. */
    map: z.record(z.string().max(64), z.union([z.string().max(64), z.number().finite()])).optional(),
    /** Multiply a numeric value, e.g. 0.1 for a thermometer that reports tenths of a degree. */
    scale: z.number().finite().positive().optional(),
    /**
     * Values the device sends for "no measurement" (a pulse oximeter's 127 % or 511 /min while the
     * finger is out). On a reading's value, systolic or diastolic the reading is skipped; on pulse or
     * battery only that field is left out. Compared before `map` and `scale`.
     */
    missing: z.array(scalar).min(1).max(8).optional(),
  }),
  z.strictObject({ const: z.union([z.string().max(64), z.number().finite()]) }),
  /** Build a string from paths ($ or @) and literal text, e.g. a reading id from a serial and a counter. */
  z.strictObject({
    join: z.array(z.string().min(1).max(200)).min(1).max(6),
    sep: z.string().max(4).default('-'),
  }),
])
export type FieldSpec = z.infer<typeof fieldSchema>

const fieldsSchema = z.strictObject({
  id: fieldSchema,
  ts: fieldSchema.optional(),
  value: fieldSchema.optional(),
  systolic: fieldSchema.optional(),
  diastolic: fieldSchema.optional(),
  pulse: fieldSchema.optional(),
  unit: fieldSchema.optional(),
  battery: fieldSchema.optional(),
})

export const templateSchema = z
  .strictObject({
    name: z.string().min(1).max(64),
    /** The template applies when the value at `path` equals `equals` (or, without `equals`, exists). */
    match: z.strictObject({ path, equals: scalar.optional() }).optional(),
    /** Iterate an array of samples; `@` paths then read each sample. */
    forEach: forEachPath.optional(),
    type: z.enum(VITAL_TYPES),
    /** How `ts` is given: ISO 8601 with offset, epoch milliseconds or epoch seconds. */
    timestamp: z.enum(['iso', 'epoch-ms', 'epoch-s']).default('iso'),
    fields: fieldsSchema,
  })
  .superRefine((t, ctx) => {
    const bp = t.type === 'blood-pressure'
    if (bp && (!t.fields.systolic || !t.fields.diastolic))
      ctx.addIssue({
        code: 'custom',
        message: 'blood-pressure templates need fields.systolic and fields.diastolic',
      })
    if (!bp && !t.fields.value)
      ctx.addIssue({ code: 'custom', message: `${t.type} templates need fields.value` })
    if (!bp && (t.fields.systolic || t.fields.diastolic || t.fields.pulse))
      ctx.addIssue({ code: 'custom', message: 'systolic, diastolic and pulse are for blood-pressure only' })
  })
export type Template = z.infer<typeof templateSchema>

export const mappingSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9-]{1,63}$/, 'lower-case letters, digits and "-"'),
  description: z.string().max(500),
  templates: z.array(templateSchema).min(1).max(MAX_TEMPLATES),
  /**
   * Messages that carry no reading by design (a heartbeat, a status report): acknowledged and
   * nothing else, rather than dead-lettered and reported to the device as errors every time.
   */
  ignore: z
    .array(z.strictObject({ path, equals: scalar.optional() }))
    .max(8)
    .optional(),
  /** A sample vendor document, kept with the mapping for docs and tests. */
  example: z.unknown().optional(),
})
export type MappingDefinition = z.infer<typeof mappingSchema>
