import pino, { type Logger } from 'pino'

// Never log secrets or patient data at info level: these paths are censored wherever they appear
// (top level or one level down), so a careless `log.info({ patient })` still leaks nothing.
const SENSITIVE = [
  'password',
  'secret',
  'token',
  'authorization',
  'cookie',
  'name',
  'birthDate',
  'payload',
  'value',
  'values',
  'observation',
  'resource',
  'email',
]

export const REDACT_PATHS = [
  ...SENSITIVE,
  ...SENSITIVE.map((k) => `*.${k}`),
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
]

export type { Logger }

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? 'info',
      base: { app: 'vitalwire' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ dest: 2, sync: false }),
  )
}
