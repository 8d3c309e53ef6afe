import { z } from 'zod'
import { VITAL_TYPES, type VitalType } from '../shared/catalog.ts'

// The canonical reading of the public contract (ARCHITECTURE.md, "Canonical reading").

export const MAX_BATCH = 500

/** ISO 8601 date-time with an explicit offset (Z or ±hh:mm); seconds and fractions optional. */
export const ISO_WITH_OFFSET =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/

const finite = z.number().refine(Number.isFinite, 'must be a finite number')

const base = {
  id: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
    // A blood-pressure cuff's pulse is stored under its reading's id + ":pulse" (to-observation.ts): an
    // id of that form would be taken for it (a different reading refused as a reused id, or an equal
    // one dropped as a replay).
    .refine((id) => !id.endsWith(':pulse'), 'must not end in ":pulse" (kept for a cuff\'s pulse reading)'),
  ts: z
    .union(
      [
        z.string().regex(ISO_WITH_OFFSET, 'ISO 8601 with offset, e.g. 2026-11-24T08:15:00Z'),
        z.number().int().min(0).max(8.64e15),
      ],
      // A union's own message is "Invalid input": say what is expected instead (for null, 1.5, true...).
      {
        error:
          'expected an ISO 8601 time with offset (e.g. 2026-11-24T08:15:00Z) or whole epoch milliseconds',
      },
    )
    .optional(),
  unit: z.string().min(1).max(32).optional(),
  // Checked in normalize: a bad battery level ("87%", 140) loses the level, never the vital sign
  // (null: none).
  battery: z.unknown().optional(),
}

type SingleValueType = Exclude<VitalType, 'blood-pressure'>
const SINGLE_VALUE_TYPES = VITAL_TYPES.filter((t): t is SingleValueType => t !== 'blood-pressure')

export const bloodPressureSchema = z.object({
  ...base,
  type: z.literal('blood-pressure'),
  systolic: finite,
  diastolic: finite,
  // Checked in normalize: a pulse that is implausible or not a number ("88") is refused on its own, and
  // the blood pressure is kept.
  pulse: z.unknown().optional(),
})

export const singleValueSchema = z.object({
  ...base,
  type: z.enum(SINGLE_VALUE_TYPES),
  // Glucometers report LO/HI when the value is outside what they can measure.
  value: z.union([finite, z.enum(['LO', 'HI'])], {
    error: 'expected a finite number (not text such as "72"), or LO/HI from a glucometer',
  }),
  // Other fields are ignored, but these are measurements that would otherwise vanish without a word
  // (a pulse oximeter's pulse rate on its SpO2 reading): normalize reports them as not stored.
  pulse: z.unknown().optional(),
  systolic: z.unknown().optional(),
  diastolic: z.unknown().optional(),
})

export const readingSchema = z.discriminatedUnion('type', [bloodPressureSchema, singleValueSchema])
export type Reading = z.infer<typeof readingSchema>

export const batchSchema = z.object({ readings: z.array(z.unknown()).min(1).max(MAX_BATCH) })
