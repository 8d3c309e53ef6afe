import http from 'node:http'
import https from 'node:https'
import { HttpError, InfluxDB, type SendOptions } from '@influxdata/influxdb-client'
import { VitalwireError } from '../../shared/errors.ts'
import type { Series } from './schema.ts'

// The v1-compatible HTTP API through @influxdata/influxdb-client's transport: line protocol to
// `/write?db=&rp=&precision=ns`, InfluxQL to `/query`. InfluxDB 1.x serves these natively; 2.x and 3.x
// serve them as compatibility endpoints (2.x needs a DBRP mapping for the database/retention policy).

export interface InfluxOptions {
  url: string
  database: string
  retentionPolicy?: string
  /** `Authorization: Token ...` (2.x/3.x tokens; 1.8 also takes `user:password` here). */
  token?: string
  /** Basic auth (1.x users; 2.x compat takes username + token as password). */
  username?: string
  password?: string
  timeoutMs?: number
}

/** A write failure, classified for the forwarder. */
export class InfluxWriteError extends VitalwireError {
  readonly httpStatus: number | undefined
  readonly retryAfterMs: number | undefined
  constructor(
    code: 'VW_ERR_STORAGE_UNAVAILABLE' | 'VW_ERR_STORAGE_REJECTED' | 'VW_ERR_STORAGE_CONFIG',
    message: string,
    detail: { httpStatus?: number; retryAfterMs?: number; cause?: unknown },
  ) {
    super(code, message, { cause: detail.cause })
    this.httpStatus = detail.httpStatus
    this.retryAfterMs = detail.retryAfterMs
  }
}

/** Retry-After is delta-seconds or an HTTP date (RFC 9110 10.2.3). */
export function parseRetryAfter(
  value: string | string[] | undefined,
  nowMs = Date.now(),
): number | undefined {
  const v = Array.isArray(value) ? value[0] : value
  if (!v) return undefined
  if (/^\d+$/.test(v.trim())) return Number(v.trim()) * 1000
  const at = Date.parse(v)
  return Number.isNaN(at) ? undefined : Math.max(0, at - nowMs)
}

function classify(e: unknown): InfluxWriteError {
  if (e instanceof HttpError) {
    const status = e.statusCode
    const body = (e.body ?? e.message).slice(0, 500)
    // A bad point (parse error, field type conflict, too large): bisect, dead-letter the culprit.
    if (status === 400 || status === 413 || status === 422)
      return new InfluxWriteError('VW_ERR_STORAGE_REJECTED', body, { httpStatus: status, cause: e })
    // Wrong credentials or no such database: no point is at fault; keep retrying and tell a person.
    if (status === 401 || status === 403 || status === 404)
      return new InfluxWriteError('VW_ERR_STORAGE_CONFIG', `InfluxDB answered ${status}: ${body}`, {
        httpStatus: status,
        cause: e,
      })
    return new InfluxWriteError('VW_ERR_STORAGE_UNAVAILABLE', `InfluxDB answered ${status}: ${body}`, {
      httpStatus: status,
      retryAfterMs: parseRetryAfter(e.headers?.['retry-after']),
      cause: e,
    })
  }
  const msg = e instanceof Error ? `${(e as any).code ?? e.name}: ${e.message}` : String(e)
  return new InfluxWriteError('VW_ERR_STORAGE_UNAVAILABLE', `InfluxDB unreachable (${msg})`, { cause: e })
}

export function createInfluxHttp(options: InfluxOptions) {
  const secure = options.url.startsWith('https:')
  const agent = secure ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true })
  const headers: Record<string, string> = {}
  if (!options.token && options.username !== undefined) {
    const basic = Buffer.from(`${options.username}:${options.password ?? ''}`).toString('base64')
    headers.authorization = `Basic ${basic}`
  }
  const transport = new InfluxDB({
    url: options.url,
    token: options.token,
    timeout: options.timeoutMs ?? 10_000,
    headers,
    transportOptions: { agent },
  }).transport
  const params = new URLSearchParams({ db: options.database, precision: 'ns' })
  if (options.retentionPolicy) params.set('rp', options.retentionPolicy)
  const writePath = `/write?${params}`

  /** A request InfluxDB answers 204 to, and nothing else (`what` names it in the error). */
  async function expect204(path: string, body: string, options: SendOptions, what: string): Promise<void> {
    let status: number | undefined
    try {
      await transport.request(path, body, options, (_headers, statusCode) => {
        status = statusCode
      })
    } catch (e) {
      throw classify(e)
    }
    if (status !== 204)
      throw new InfluxWriteError(
        'VW_ERR_STORAGE_CONFIG',
        `InfluxDB answered ${status ?? 'without a status'} ${what}, not 204: nothing is taken as stored (is INFLUX_URL an InfluxDB?)`,
        { httpStatus: status },
      )
  }

  return {
    /** Write line protocol; resolves when InfluxDB answered 204 (the points are durable there). */
    async write(lines: string): Promise<void> {
      // Only 204 means stored. Another 2xx (a proxy's maintenance page, INFLUX_URL pointing at
      // something else) was taken as stored, and the batch left the outbox for good: keep it and retry,
      // and tell a person.
      await expect204(
        writePath,
        lines,
        { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' } },
        'to a write',
      )
    },
    /** InfluxDB's /ping: resolves when it answers 204 (1.x, and 2.x/3.x serve it too). */
    async ping(): Promise<void> {
      await expect204('/ping', '', { method: 'GET' }, 'to /ping')
    },
    /** Run InfluxQL (several statements may be joined by `;`); one array of series per statement. */
    async query(q: string): Promise<Series[][]> {
      // epoch=ms: `time` as integer ms, which for a reading is its effective time (schema.ts).
      const body = new URLSearchParams({ q, db: options.database, epoch: 'ms' }).toString()
      let json: any
      try {
        json = await transport.request('/query', body, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        })
      } catch (e) {
        const c = classify(e)
        // A 400 here means our InfluxQL is wrong, not a reading: an internal error, not a dead letter.
        if (c.code !== 'VW_ERR_STORAGE_REJECTED') throw c
        throw new VitalwireError('VW_ERR_INTERNAL', `InfluxQL refused: ${c.message}`, { cause: e })
      }
      const results: any[] = json?.results ?? []
      const failed = results.find((r) => r.error)
      if (failed) throw new VitalwireError('VW_ERR_STORAGE_UNAVAILABLE', `InfluxQL failed: ${failed.error}`)
      return results.map((r) => (r.series ?? []) as Series[])
    },
    /** Qualify a measurement with the retention policy, if one is configured. */
    from(measurement: string): string {
      const m = `"${measurement}"`
      return options.retentionPolicy ? `"${options.retentionPolicy.replace(/"/g, '\\"')}".${m}` : m
    },
    close() {
      agent.destroy()
    },
  }
}

export type InfluxHttp = ReturnType<typeof createInfluxHttp>
