// One registry of coded errors. Each code has an HTTP status and a docs entry in docs/errors.md;
// shared/errors.test.ts keeps the two in sync.

export const ERRORS = {
  VW_ERR_CONFIG_INVALID: { status: 500, message: 'invalid configuration' },
  VW_ERR_CLI_ARGUMENT: { status: 400, message: 'bad command-line argument' },
  VW_ERR_NOT_FOUND: { status: 404, message: 'not found' },
  VW_ERR_METHOD_NOT_ALLOWED: {
    status: 405,
    message: 'method not allowed on this path (see the Allow header)',
  },
  VW_ERR_CONFLICT: { status: 409, message: 'already exists' },
  VW_ERR_VALIDATION: { status: 400, message: 'request failed validation' },
  VW_ERR_AUTH_REQUIRED: { status: 401, message: 'authentication required' },
  VW_ERR_AUTH_INVALID: { status: 401, message: 'wrong email or password' },
  VW_ERR_AUTH_LOCKED: { status: 429, message: 'too many failed logins; try again later' },
  VW_ERR_FORBIDDEN: { status: 403, message: 'not allowed' },
  VW_ERR_PAYLOAD_TOO_LARGE: { status: 413, message: 'request body larger than 256 KiB' },
  VW_ERR_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: 'request body must be JSON (Content-Type: application/json)',
  },
  VW_ERR_RATE_LIMITED: { status: 429, message: 'too many requests' },
  VW_ERR_PASSWORD_CHANGE_REQUIRED: {
    status: 403,
    message: 'change the one-time password first (POST /api/session/password)',
  },
  VW_ERR_PASSWORD_WEAK: {
    status: 400,
    message: 'new password must be 12-1024 characters, differ from the current one and not be easy to guess',
  },
  VW_ERR_INGEST_PAYLOAD: { status: 400, message: 'payload is not valid JSON of at most 64 KiB' },
  VW_ERR_INGEST_SCHEMA: { status: 400, message: 'reading does not match the schema' },
  VW_ERR_INGEST_UNIT: { status: 400, message: 'unknown unit or unit of the wrong dimension' },
  VW_ERR_INGEST_IMPLAUSIBLE: { status: 400, message: 'value outside plausible bounds' },
  VW_ERR_INGEST_TIME: { status: 400, message: 'timestamp outside the acceptance window' },
  VW_ERR_INGEST_MAPPING: { status: 400, message: 'payload does not match the device mapping' },
  VW_ERR_INGEST_ID_REUSED: {
    status: 409,
    message: 'reading id already used by this device for a different reading; kept aside, not stored',
  },
  VW_ERR_INGEST_RATE: {
    status: 429,
    message: 'device message rate exceeded; message dead-lettered, not processed',
  },
  VW_ERR_INGEST_UNKNOWN_DEVICE: { status: 403, message: 'device not enrolled or revoked' },
  VW_ERR_RULES_INVALID: { status: 400, message: 'alert rule set failed validation' },
  VW_ERR_ALERT_RESOLVED: { status: 409, message: 'the alert was already resolved; nothing changed' },
  VW_ERR_ALERT_SNOOZE_CRITICAL: { status: 409, message: 'critical alerts cannot be snoozed' },
  VW_ERR_STORAGE_UNAVAILABLE: { status: 503, message: 'storage unavailable' },
  VW_ERR_STORAGE_REJECTED: { status: 422, message: 'InfluxDB refused a point (dead-lettered)' },
  VW_ERR_STORAGE_CONFIG: { status: 502, message: 'InfluxDB credentials or database wrong' },
  VW_ERR_INTERNAL: { status: 500, message: 'internal error' },
} as const

export type ErrorCode = keyof typeof ERRORS

export class VitalwireError extends Error {
  readonly code: ErrorCode
  readonly status: number
  constructor(code: ErrorCode, message?: string, options?: { cause?: unknown }) {
    super(message ?? ERRORS[code].message, options)
    this.name = 'VitalwireError'
    this.code = code
    this.status = ERRORS[code].status
  }
}

export function isVitalwireError(e: unknown): e is VitalwireError {
  return e instanceof VitalwireError
}
