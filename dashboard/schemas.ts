import { z } from 'zod'
import { VITAL_TYPES } from '../shared/catalog.ts'
import { PATIENT_ID_PATTERN } from '../shared/provisioning.ts'
import { TOKEN_DAYS } from '../storage/ports.ts'

// The REST API's shapes, written once in zod and handed to Fastify as JSON Schema: requests are
// validated with them, responses serialized with them (unknown fields are dropped, which also keeps
// internal fields such as password hashes from ever leaving), and /docs is generated from them.

/** zod -> the JSON Schema (draft-07) Fastify's validator and serializer take. */
export function json(schema: z.ZodType, io: 'input' | 'output' = 'input'): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { target: 'draft-7', io, unrepresentable: 'any' })
  return rest
}

export const errorSchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) })

/** Error responses for the OpenAPI document and the serializer. */
export function errors(...statuses: number[]) {
  return Object.fromEntries(statuses.map((s) => [s, json(errorSchema, 'output')]))
}

export const patientId = z.string().regex(PATIENT_ID_PATTERN)
const flags = z
  .object({ hypercapnic: z.boolean(), onOxygen: z.boolean(), heartFailure: z.boolean() })
  .partial()
  .strict()

export const patientSchema = z.object({
  id: z.string(),
  name: z.string(),
  birthDate: z.string().optional(),
  monitoring: z.boolean(),
  flags,
})

export const readingSchema = z.object({
  id: z.string(),
  type: z.string(),
  effective: z.string(),
  effectiveMs: z.number(),
  deviceId: z.string(),
  values: z.record(z.string(), z.number()),
  unit: z.string().optional(),
  interpretation: z.string().optional(),
  flags: z.array(z.string()),
})

export const deviceSchema = z.object({
  id: z.string(),
  patientId: z.string(),
  type: z.string(),
  auth: z.enum(['secret', 'cert']),
  connected: z.boolean(),
  lastSeen: z.string().optional(),
  battery: z.number().optional(),
  firmware: z.string().optional(),
  revoked: z.boolean(),
  certNotAfter: z.string().optional(),
})

// Alerts are owned by alerts/ and grow fields (score, breakdown, ...): the core is fixed, the rest passes.
/**
 * An alert as the API and the WebSocket send it (shared/alert.ts; docs/api.md). Times are as the server
 * or the device wrote them: `openedAt`/`updatedAt` UTC with milliseconds, `firstSeenAt`/`lastSeenAt` the
 * measurement time with the device's offset (compare them as instants, not as text).
 */
export const alertSchema = z.looseObject({
  id: z.string(),
  patientId: z.string(),
  rule: z.string(),
  severity: z.enum(['critical', 'high', 'medium', 'low']),
  status: z.enum(['open', 'acknowledged', 'resolved']),
  message: z.string(),
  openedAt: z.string(),
  updatedAt: z.string().optional(),
  firstSeenAt: z.string().optional(),
  lastSeenAt: z.string().optional(),
  /** Breaching readings folded into this alert. */
  count: z.number().int().optional(),
  /** The last 50 of them. */
  observationIds: z.array(z.string()).optional(),
  /** The most extreme value seen, in `unit`. */
  worstValue: z.number().optional(),
  unit: z.string().optional(),
  /** Scored rules (news2): the score and its parts. */
  score: z.number().optional(),
  breakdown: z
    .record(z.string(), z.looseObject({ value: z.number(), points: z.number(), note: z.string().optional() }))
    .optional(),
  /** An open critical alert nobody acknowledged in time. */
  escalated: z.boolean().optional(),
  /** When it last became critical and unacknowledged; escalation counts from here. */
  criticalSince: z.string().optional(),
  history: z
    .array(z.looseObject({ at: z.string(), by: z.string(), action: z.string(), note: z.string().optional() }))
    .optional(),
  /** This user's own snooze, if any. */
  snoozedUntil: z.string().optional(),
})

const latest = z.record(z.string(), readingSchema)

export const worklistSchema = z.object({
  patients: z.array(
    patientSchema.extend({ latest, openAlerts: z.number().int(), topSeverityRank: z.number().int() }),
  ),
})

export const patientDetailSchema = patientSchema.extend({
  latest,
  devices: z.array(deviceSchema),
  alerts: z.array(alertSchema),
  /** The limits of the rules that apply to this patient (canonical units), for the trend charts. */
  thresholds: z.array(
    z.object({
      type: z.string(),
      value: z.number(),
      severity: z.enum(['critical', 'high', 'medium', 'low']),
      label: z.string(),
      field: z.string().optional(),
    }),
  ),
  rpm: z.object({ periodDays: z.number(), daysWithReadings: z.number(), band: z.string() }),
})

export const readingsQuery = z
  .object({
    type: z.enum(VITAL_TYPES as unknown as [string, ...string[]]),
    from: z.iso.datetime({ offset: true }),
    to: z.iso.datetime({ offset: true }),
    limit: z.number().int().min(1).max(5000).default(500),
    after: z.string().max(200),
    sort: z.enum(['asc', 'desc']).default('asc'),
  })
  .partial({ type: true, from: true, to: true, after: true })
  .strict()

export const newPatientSchema = z
  .object({
    id: patientId,
    name: z.string().min(1).max(200),
    birthDate: z.iso.date().optional(),
    flags: flags.optional(),
  })
  .strict()

export const patchPatientSchema = z.object({ monitoring: z.boolean(), flags }).partial().strict()

const role = z.enum(['admin', 'coordinator', 'clinician'])
export const userSchema = z.object({
  id: z.number().int(),
  email: z.string(),
  role,
  patients: z.array(z.string()),
  mustChangePassword: z.boolean(),
  locked: z.boolean(),
  /** Disabled by an admin: no sign-in, no session, no token works. */
  disabled: z.boolean(),
})
export const newUserSchema = z
  .object({
    email: z.string().min(3).max(254),
    role,
    patients: z.array(patientId).max(10_000).default([]),
  })
  .strict()
export const careTeamSchema = z.object({ patients: z.array(patientId).max(10_000) }).strict()

export const newTokenSchema = z
  .object({
    email: z.string().min(3).max(254),
    label: z.string().min(1).max(200),
    /** How long the token works: 1 to 365 days, 90 when not given. */
    expiresInDays: z.number().int().min(1).max(TOKEN_DAYS.max).optional(),
  })
  .strict()
export const tokenSchema = z.object({
  id: z.string(),
  userId: z.number().int(),
  email: z.string().optional(),
  label: z.string(),
  createdAt: z.string(),
  revokedAt: z.string().optional(),
  /** Absent for a token issued before tokens expired: valid until revoked. */
  expiresAt: z.string().optional(),
})

export const auditQuery = z
  .object({
    patient: z.string().max(64),
    actor: z.string().max(254),
    action: z.string().max(100),
    before: z.number().int().min(1),
    limit: z.number().int().min(1).max(1000).default(100),
  })
  .partial({ patient: true, actor: true, action: true, before: true })
  .strict()
export const auditEntrySchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  outcome: z.string(),
  patientId: z.string().optional(),
  target: z.string().optional(),
  ip: z.string().optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
  hash: z.string(),
})

export const sessionSchema = z.object({
  email: z.string(),
  role,
  mustChangePassword: z.boolean(),
  idleTimeoutMs: z.number(),
})
export const loginSchema = z
  .object({ email: z.string().min(3).max(254), password: z.string().min(1).max(1024) })
  .strict()
export const passwordChangeSchema = z
  .object({ current: z.string().min(1).max(1024), next: z.string().min(1).max(1024) })
  .strict()
