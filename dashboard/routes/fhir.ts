import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify'
import { ERRORS, isVitalwireError } from '../../shared/errors.ts'
import { observationResource, operationOutcome, type StoredObservation } from '../../shared/fhir.ts'
import { auditReq, requireViewer } from '../auth.ts'
import type { DashboardDeps } from '../deps.ts'
import { parseObservationSearch } from '../fhir-search.ts'
import { capabilityStatement } from './fhir-metadata.ts'
import { fhirReadRoutes, sendFhir } from './fhir-read.ts'

// FHIR R4 API at /fhir/r4: application/fhir+json, errors as OperationOutcome, every read audited,
// every result limited to the patients the caller may see.

const ISSUE_BY_STATUS: Record<number, string> = {
  401: 'login',
  403: 'forbidden',
  404: 'not-found',
  409: 'conflict',
  429: 'throttled',
}

function baseUrl(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}/fhir/r4`
}

const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json'])

/** An Accept header (if any) that allows JSON: fhir+json, json, application/* or * /*. */
function acceptsJson(accept: string | undefined): boolean {
  if (!accept) return true
  return accept.split(',').some((part) => {
    const [type, ...params] = part.split(';').map((x) => x.trim().toLowerCase())
    if (params.some((p) => /^q=0(\.0*)?$/.test(p))) return false
    return ['application/fhir+json', 'application/json', 'application/*', '*/*'].includes(type)
  })
}

/**
 * Bundle.total for a first page, remembered for a few seconds per exact filter (the visible patients are
 * part of it, so no caller sees another's count). Counting a year of minute readings costs tens of
 * milliseconds; FHIR lets total be approximate, and HAPI FHIR likewise reuses search counts for a minute.
 */
function createTotals(deps: DashboardDeps, ttlMs = 10_000) {
  const cache = new Map<string, { total: number; atMs: number }>()
  return {
    /** The count, from a cache up to `ttlMs` old unless `fresh` (`_total=accurate`). */
    async count(filter: Parameters<DashboardDeps['readings']['count']>[0], fresh = false): Promise<number> {
      const { limit: _l, sort: _s, ...rest } = filter as typeof filter & { limit?: number; sort?: string }
      const key = JSON.stringify(rest)
      const hit = cache.get(key)
      if (!fresh && hit && Date.now() - hit.atMs < ttlMs) return hit.total
      const total = await deps.readings.count(rest)
      if (cache.size >= 1000) cache.clear()
      cache.set(key, { total, atMs: Date.now() })
      return total
    },
  }
}

/** A request for a path that exists with other methods: the `Allow` header and the message of its 405. */
export type MethodNotAllowed = (req: FastifyRequest) => { allow: string; message: string } | undefined

export function fhirRoutes(
  app: FastifyInstance,
  deps: DashboardDeps,
  /** A path that exists with other methods (app.ts): a 405, not "not supported" (404). */
  wrongMethod: MethodNotAllowed = () => undefined,
) {
  const auth = requireViewer(deps)
  const totals = createTotals(deps)
  app.addContentTypeParser('application/fhir+json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string))
    } catch (e) {
      // The client's mistake: 400, not a server error with a stack trace in the log.
      done(
        Object.assign(new Error(`body is not JSON: ${(e as Error).message}`), { statusCode: 400 }),
        undefined,
      )
    }
  })
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = isVitalwireError(err) ? err.status : (err.statusCode ?? 500)
    if (isVitalwireError(err) && status === 503) {
      // A backend that is down for now (InfluxDB unreachable) is not a server bug: 503 with the FHIR
      // issue type for it, so a client retries later. The detail (addresses) stays in the log.
      req.log.warn({ err }, 'FHIR request: storage unavailable')
      reply.header('retry-after', '5')
      return sendFhir(reply, 503, operationOutcome('transient', ERRORS[err.code].message))
    }
    if (status >= 500) {
      req.log.error({ err }, 'FHIR request failed')
      return sendFhir(reply, 500, operationOutcome('exception', 'internal error'))
    }
    // requireViewer may have said more (an expired token: error="invalid_token"); keep that.
    if (isVitalwireError(err) && err.status === 401 && !reply.hasHeader('www-authenticate'))
      reply.header('www-authenticate', 'Bearer')
    return sendFhir(reply, status, operationOutcome(ISSUE_BY_STATUS[status] ?? 'invalid', err.message))
  })
  app.setNotFoundHandler((req, reply) => {
    const wrong = wrongMethod(req)
    if (!wrong)
      return sendFhir(
        reply,
        404,
        operationOutcome('not-supported', `${req.method} ${req.url} is not supported`),
      )
    reply.header('allow', wrong.allow)
    return sendFhir(reply, 405, operationOutcome('not-supported', wrong.message))
  })

  // JSON only: a client asking for XML (or anything else) is told so (406), not sent JSON it cannot read.
  app.addHook('onRequest', async (req, reply) => {
    const format = (req.query as Record<string, unknown> | undefined)?._format
    const formats = format === undefined ? [] : [format].flat().map(String)
    if (formats.some((f) => !JSON_FORMATS.has(f.split(';')[0].trim())) || !acceptsJson(req.headers.accept))
      return sendFhir(
        reply,
        406,
        operationOutcome('not-supported', 'only JSON is served: _format=json, Accept: application/fhir+json'),
      )
  })

  app.get('/metadata', async (req, reply) => sendFhir(reply, 200, capabilityStatement(baseUrl(req))))

  app.get('/Observation', { preHandler: auth }, async (req, reply) => {
    const viewer = req.viewer!
    const query = req.query as Record<string, unknown>
    const parsed = parseObservationSearch(query, baseUrl(req))
    if (!parsed.ok) return sendFhir(reply, 400, operationOutcome(parsed.code, parsed.message))
    const q = parsed.query
    // Without patient/subject the search covers every patient the caller may see. Patients outside the
    // care team match nothing, exactly like unknown ones, and the attempt is audited.
    let patientIds = q.patientIds ?? (viewer.patients ? [...viewer.patients] : undefined)
    if (patientIds && viewer.patients) {
      const denied = patientIds.filter((id) => !viewer.patients!.has(id))
      for (const id of denied)
        auditReq(deps, req, { action: 'fhir.Observation.search', outcome: 'denied', patientId: id })
      patientIds = patientIds.filter((id) => viewer.patients!.has(id))
    }
    const filter = { ...q, patientIds }
    const reverse = parsed.cursor?.dir === 'prev'
    const sort = reverse ? (q.sort === 'asc' ? 'desc' : 'asc') : q.sort
    let [page, total] = await Promise.all([
      parsed.count === 0
        ? Promise.resolve({ items: [] as StoredObservation[], next: undefined })
        : deps.readings.search({ ...filter, sort, limit: parsed.count, after: parsed.cursor?.value }),
      parsed.total === 'none'
        ? undefined
        : (parsed.cursor?.total ?? totals.count(filter, parsed.total === 'accurate')),
    ])
    const items = reverse ? [...page.items].reverse() : page.items
    // A first page never contradicts its own total: a count from the cache may predate readings that
    // arrived since; the whole result on one page is its own exact count.
    if (total !== undefined && !parsed.cursor && parsed.count > 0)
      total = page.next === undefined ? items.length : Math.max(total, items.length)
    const base = baseUrl(req)
    const params = new URLSearchParams()
    for (const [k, v] of Object.entries(query)) {
      if (k === '_cursor') continue
      for (const one of Array.isArray(v) ? v : [v]) params.append(k, String(one))
    }
    const link = (cursor?: string) => {
      const p = new URLSearchParams(params)
      if (cursor) p.append('_cursor', cursor)
      return `${base}/Observation?${p.toString()}`
    }
    const self = parsed.cursor
      ? `${parsed.cursor.dir === 'next' ? 'n' : 'p'}.${parsed.cursor.value}`
      : undefined
    const links = [{ relation: 'self', url: link(self) }]
    const hasMore = page.next !== undefined
    const first = items[0]
    const last = items[items.length - 1]
    // Keyset cursors on (effective time, id): a page deep in a long history costs what the first one does.
    if (last && (reverse ? true : hasMore))
      links.push({
        relation: 'next',
        url: link(`n.${deps.readings.cursorAt(last)}${total === undefined ? '' : `.${total}`}`),
      })
    if (first && (reverse ? hasMore : parsed.cursor !== undefined))
      links.push({
        relation: 'previous',
        url: link(`p.${deps.readings.cursorAt(first)}${total === undefined ? '' : `.${total}`}`),
      })
    const seen = [...new Set(items.map((o) => o.patientId))]
    auditReq(deps, req, {
      action: 'fhir.Observation.search',
      outcome: 'ok',
      patientId: seen.length === 1 ? seen[0] : patientIds?.length === 1 ? patientIds[0] : undefined,
      detail: { patients: seen, count: items.length },
    })
    return sendFhir(reply, 200, {
      resourceType: 'Bundle',
      type: 'searchset',
      ...(total === undefined ? {} : { total }),
      link: links,
      // FHIR JSON never carries an empty array, so an empty page has no `entry` at all.
      ...(items.length
        ? {
            entry: items.map((o) => ({
              fullUrl: `${base}/Observation/${o.id}`,
              resource: observationResource(o),
              search: { mode: 'match' },
            })),
          }
        : {}),
    })
  })

  fhirReadRoutes(app, deps)
}
