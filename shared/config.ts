import fs from 'node:fs'
import path from 'node:path'
import { parseEnv } from 'node:util'
import { z } from 'zod'
import { VitalwireError } from './errors.ts'

// Read the environment once, validate it with zod, fail with one message listing every problem, freeze.
// Slices of the result are passed down explicitly; nothing reads process.env after this.

const port = z.coerce
  .number({ error: 'expected an integer 0-65535' })
  .int('expected an integer 0-65535')
  .min(0, 'expected an integer 0-65535')
  .max(65535, 'expected an integer 0-65535')
const positiveInt = z.coerce.number().int().positive()
const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v))

export function isLoopbackUrl(url: string): boolean {
  const host = new URL(url).hostname
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

const envSchema = z.object({
  VITALWIRE_DATA_DIR: z.string().min(1).default('./data'),
  VITALWIRE_LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  VITALWIRE_MQTT_HOST: z.string().min(1).default('127.0.0.1'),
  VITALWIRE_MQTT_PORT: port.default(8883),
  VITALWIRE_MQTT_PLAIN_PORT: port.optional(),
  // Twice the 64 KiB payload limit: a payload between the two is acknowledged and dead-lettered with a
  // reason (so a device does not resend it forever); only a larger packet closes the connection.
  VITALWIRE_MQTT_MAX_PACKET_BYTES: positiveInt.default(128 * 1024),
  VITALWIRE_MQTT_RATE_PER_S: positiveInt.default(50),
  VITALWIRE_MQTT_BURST: positiveInt.default(500),
  VITALWIRE_MQTT_MAX_CONNECTIONS: positiveInt.default(100_000),
  VITALWIRE_MQTT_KEEPALIVE_MAX_S: positiveInt.default(1200),
  VITALWIRE_MQTT_AUTH_FAILURES_PER_MIN: positiveInt.default(10),
  VITALWIRE_TLS_CERT: optionalString,
  VITALWIRE_TLS_KEY: optionalString,
  VITALWIRE_DEVICE_CA: optionalString,
  VITALWIRE_HTTP_HOST: z.string().min(1).default('127.0.0.1'),
  VITALWIRE_HTTP_PORT: port.default(8080),
  VITALWIRE_DATA_KEY: optionalString.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9+/]{43}=$/, 'must be 32 bytes, base64 (openssl rand -base64 32)')
      .optional(),
  ),
  // Fractional minutes are allowed (tests use a few hundred milliseconds).
  VITALWIRE_SESSION_IDLE_MIN: z.coerce
    .number()
    .positive()
    .max(24 * 60)
    .default(15),
  VITALWIRE_MAX_FUTURE_S: z.coerce.number().int().min(0).default(300),
  VITALWIRE_MAX_AGE_DAYS: positiveInt.default(30),
  VITALWIRE_RETENTION_DAYS: positiveInt.default(400),
  VITALWIRE_ESCALATE_AFTER_MIN: positiveInt.default(15),
  // An escalation carries the alert (patient id, values): over the network only with TLS. Plain http
  // only to this machine (a local relay or sidecar).
  VITALWIRE_ESCALATION_WEBHOOK: optionalString.pipe(
    z
      .url({ protocol: /^https?$/ })
      .refine((u) => u.startsWith('https:') || isLoopbackUrl(u), {
        error:
          'an escalation carries patient data: use https:// (plain http:// only to this machine: localhost, 127.0.0.1, [::1])',
      })
      .optional(),
  ),
  VITALWIRE_ALERT_RULES: optionalString,
  INFLUX_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  INFLUX_TOKEN: optionalString,
  INFLUX_USERNAME: optionalString,
  INFLUX_PASSWORD: optionalString,
  INFLUX_DATABASE: z.string().min(1).default('vitalwire'),
  INFLUX_RETENTION_POLICY: optionalString,
})

export type Env = z.input<typeof envSchema>

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.')
}

/**
 * The optional config file (`VITALWIRE_CONFIG`): `KEY=value` lines, as in a `.env` file, for the same
 * variables; the environment wins over it. A key that is not one of them stops the start (a typo would
 * otherwise be ignored, and its default used without a word).
 */
function withConfigFile(
  env: Record<string, string | undefined>,
  cwd: string,
): Record<string, string | undefined> {
  const file = env.VITALWIRE_CONFIG
  if (!file) return env
  let text: string
  try {
    text = fs.readFileSync(path.resolve(cwd, file), 'utf8')
  } catch (e) {
    throw new VitalwireError(
      'VW_ERR_CONFIG_INVALID',
      `VITALWIRE_CONFIG: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? e})`,
    )
  }
  const fromFile = parseEnv(text)
  const unknown = Object.keys(fromFile).filter((k) => !(k in envSchema.shape))
  if (unknown.length > 0)
    throw new VitalwireError(
      'VW_ERR_CONFIG_INVALID',
      `VITALWIRE_CONFIG ${file}: unknown setting${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')} (the variables are listed in the README)`,
    )
  return { ...fromFile, ...Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined)) }
}

export function loadConfig(
  processEnv: Record<string, string | undefined> = process.env,
  cwd = process.cwd(),
) {
  const env = withConfigFile(processEnv, cwd)
  // An empty value (`VITALWIRE_HTTP_PORT=` in a compose file or a unit) is unset: it takes the default.
  // Coerced as a number it was 0, a random port, and VITALWIRE_MAX_FUTURE_S= silently became 0.
  const known = Object.fromEntries(
    Object.keys(envSchema.shape).map((k) => [k, env[k] === '' ? undefined : env[k]]),
  )
  const parsed = envSchema.safeParse(known)
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => {
      const name = String(i.path[0])
      return `  ${name}=${JSON.stringify(env[name])}: ${i.message}`
    })
    throw new VitalwireError('VW_ERR_CONFIG_INVALID', `invalid configuration:\n${lines.join('\n')}`)
  }
  const e = parsed.data
  const problems: string[] = []
  if ((e.VITALWIRE_TLS_CERT === undefined) !== (e.VITALWIRE_TLS_KEY === undefined)) {
    problems.push('  VITALWIRE_TLS_CERT and VITALWIRE_TLS_KEY must be set together')
  }
  // The local readings table is the dedupe index: pruning what ingest still accepts would let a replay in.
  if (e.VITALWIRE_RETENTION_DAYS <= e.VITALWIRE_MAX_AGE_DAYS) {
    problems.push('  VITALWIRE_RETENTION_DAYS must be greater than VITALWIRE_MAX_AGE_DAYS')
  }
  if (problems.length > 0) {
    throw new VitalwireError('VW_ERR_CONFIG_INVALID', `invalid configuration:\n${problems.join('\n')}`)
  }
  const dataDir = path.resolve(cwd, e.VITALWIRE_DATA_DIR)
  const config = {
    dataDir,
    dbPath: path.join(dataDir, 'vitalwire.db'),
    pkiDir: path.join(dataDir, 'pki'),
    logLevel: e.VITALWIRE_LOG_LEVEL,
    dataKey: e.VITALWIRE_DATA_KEY,
    mqtt: {
      host: e.VITALWIRE_MQTT_HOST,
      port: e.VITALWIRE_MQTT_PORT,
      // Plain TCP is for development only and never leaves loopback.
      plainPort: e.VITALWIRE_MQTT_PLAIN_PORT,
      plainHost: '127.0.0.1',
      maxPacketBytes: e.VITALWIRE_MQTT_MAX_PACKET_BYTES,
      ratePerS: e.VITALWIRE_MQTT_RATE_PER_S,
      burst: e.VITALWIRE_MQTT_BURST,
      maxConnections: e.VITALWIRE_MQTT_MAX_CONNECTIONS,
      keepaliveMaxS: e.VITALWIRE_MQTT_KEEPALIVE_MAX_S,
      authFailuresPerMin: e.VITALWIRE_MQTT_AUTH_FAILURES_PER_MIN,
      tlsCert: e.VITALWIRE_TLS_CERT,
      tlsKey: e.VITALWIRE_TLS_KEY,
      deviceCa: e.VITALWIRE_DEVICE_CA,
    },
    http: {
      host: e.VITALWIRE_HTTP_HOST,
      port: e.VITALWIRE_HTTP_PORT,
      // Any non-loopback bind serves HTTPS only.
      tls: !isLoopback(e.VITALWIRE_HTTP_HOST),
      sessionIdleMs: Math.max(1, Math.round(e.VITALWIRE_SESSION_IDLE_MIN * 60_000)),
    },
    ingest: {
      maxFutureMs: e.VITALWIRE_MAX_FUTURE_S * 1000,
      maxAgeMs: e.VITALWIRE_MAX_AGE_DAYS * 86_400_000,
    },
    storage: {
      retentionMs: e.VITALWIRE_RETENTION_DAYS * 86_400_000,
    },
    alerts: {
      escalateAfterMs: e.VITALWIRE_ESCALATE_AFTER_MIN * 60_000,
      /** POSTed `{ type: 'alert-escalated', alert }` when a critical alert escalates. */
      escalationWebhook: e.VITALWIRE_ESCALATION_WEBHOOK,
      /** JSON rule set replacing the defaults (docs/alerts.md); validated at start. */
      rulesFile: e.VITALWIRE_ALERT_RULES ? path.resolve(cwd, e.VITALWIRE_ALERT_RULES) : undefined,
    },
    influx: e.INFLUX_URL
      ? {
          url: e.INFLUX_URL,
          token: e.INFLUX_TOKEN,
          username: e.INFLUX_USERNAME,
          password: e.INFLUX_PASSWORD,
          database: e.INFLUX_DATABASE,
          retentionPolicy: e.INFLUX_RETENTION_POLICY,
        }
      : undefined,
  }
  return deepFreeze(config)
}

export type Config = ReturnType<typeof loadConfig>

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v)
    Object.freeze(value)
  }
  return value
}
