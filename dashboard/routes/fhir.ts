import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { isVitalwireError } from '../../shared/errors.ts'
import { operationOutcome, type StoredObservation } from '../../shared/fhir.ts'
import { maySee, requireViewer } from '../auth.ts'
import type { DashboardDeps } from '../deps.ts'
import { parseObservationSearch } from '../fhir-search.ts'
import { capabilityStatement } from './fhir-metadata.ts'

// FHIR R4 API at /fhir/r4: application/fhir+json, errors as OperationOutcome, every read audited,
// every result limited to the patients the caller may see.

const FHIR_JSON = 'application/fhir+json; charset=utf-8'

function send(reply: FastifyReply, status: number, body: unknown) {
  return reply.code(status).type(FHIR_JSON).send(body)
}

function baseUrl(req: FastifyRequest): string {
  return `${req.protocol}://${req.host}/fhir/r4`
}

export function fhirRoutes(app: FastifyInstance, deps: DashboardDeps) {
  const auth = requireViewer(deps)
  app.addContentTypeParser('application/fhir+json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string))
    } catch (e) {
      done(e as Error, undefined)
    }
  })
  app.setErrorHandler((err, req, reply) => {
    if (isVitalwireError(err)) {
      const code =
        err.status === 401
          ? 'login'
          : err.status === 403
            ? 'forbidden'
            : err.status === 404
              ? 'not-found'
              : 'processing'
      return send(reply, err.status, operationOutcome(code, err.message))
    }
    if ((err as any).validation) return send(reply, 400, operationOutcome('invalid', (err as Error).message))
    req.log.error({ err }, 'FHIR request failed')
    return send(reply, 500, operationOutcome('exception', 'internal error'))
  })
  app.setNotFoundHandler((req, reply) =>
    send(reply, 404, operationOutcome('not-supported', `${req.method} ${req.url} is not supported`)),
  )

  app.get('/metadata', async (req, reply) => send(reply, 200, capabilityStatement(baseUrl(req))))

  app.get('/Observation', { preHandler: auth }, async (req, reply) => {
    const viewer = req.viewer!
    const parsed = parseObservationSearch(req.query as Record<string, unknown>)
    if (!parsed.ok) return send(reply, 400, operationOutcome(parsed.code, parsed.message))
    const q = parsed.query
    // Without patient/subject the search covers every patient the caller may see.
    let patientIds = q.patientIds ?? (viewer.patients ? [...viewer.patients] : undefined)
    if (patientIds && viewer.patients) patientIds = patientIds.filter((id) => viewer.patients!.has(id))
    const filter = { ...q, patientIds }
    const reverse = parsed.cursor?.dir === 'prev'
    const sort = reverse ? (q.sort === 'asc' ? 'desc' : 'asc') : q.sort
    const [page, total] = await Promise.all([
      parsed.count === 0
        ? Promise.resolve({ items: [] as StoredObservation[], next: undefined })
        : deps.readings.search({ ...filter, sort, limit: parsed.count, after: parsed.cursor?.value }),
      deps.readings.count(filter),
    ])
    const items = reverse ? [...page.items].reverse() : page.items
    const base = baseUrl(req)
    const params = new URLSearchParams()
    for (const [k, v] of Object.entries(req.query as Record<string, unknown>)) {
      if (k === '_cursor') continue
      for (const one of Array.isArray(v) ? v : [v]) params.append(k, String(one))
    }
    const link = (cursor?: string) =>
      `${base}/Observation?${new URLSearchParams([...params, ...(cursor ? [['_cursor', cursor]] : [])]).toString()}`
    const links = [{ relation: 'self', url: link(req.query && (req.query as any)._cursor) }]
    const hasMore = page.next !== undefined
    const first = items[0]
    const last = items[items.length - 1]
    const cursorOf = (o: StoredObservation) =>
      Buffer.from(JSON.stringify([o.effectiveMs, o.id])).toString('base64url')
    if (last && (reverse ? parsed.cursor !== undefined : hasMore))
      links.push({ relation: 'next', url: link(`n.${cursorOf(last)}`) })
    if (first && (reverse ? hasMore : parsed.cursor !== undefined))
      links.push({ relation: 'previous', url: link(`p.${cursorOf(first)}`) })
    for (const id of new Set(items.map((o) => o.patientId))) {
      deps.audit.append({
        actor: viewer.email,
        action: 'fhir.Observation.search',
        outcome: 'ok',
        patientId: id,
        ip: req.ip,
        detail: { count: items.filter((o) => o.patientId === id).length },
      })
    }
    return send(reply, 200, {
      resourceType: 'Bundle',
      type: 'searchset',
      total,
      link: links,
      entry: items.map((o) => ({
        fullUrl: `${base}/Observation/${o.id}`,
        resource: o.resource,
        search: { mode: 'match' },
      })),
    })
  })

  app.get('/Observation/:id', { preHandler: auth }, async (req, reply) => {
    const { id } = req.params as { id: string }
    const o = await deps.readings.get(id)
    if (!o || !maySee(req.viewer!, o.patientId)) {
      deps.audit.append({
        actor: req.viewer!.email,
        action: 'fhir.Observation.read',
        outcome: 'denied',
        target: id,
        ip: req.ip,
      })
      return send(reply, 404, operationOutcome('not-found', `Observation/${id} not found`))
    }
    deps.audit.append({
      actor: req.viewer!.email,
      action: 'fhir.Observation.read',
      outcome: 'ok',
      patientId: o.patientId,
      target: id,
      ip: req.ip,
    })
    return send(reply, 200, o.resource)
  })

  app.get('/Patient/:id', { preHandler: auth }, async (req, reply) => {
    const { id } = req.params as { id: string }
    const p = maySee(req.viewer!, id) ? await deps.registry.getPatient(id) : undefined
    if (!p) {
      deps.audit.append({
        actor: req.viewer!.email,
        action: 'fhir.Patient.read',
        outcome: 'denied',
        patientId: id,
        ip: req.ip,
      })
      return send(reply, 404, operationOutcome('not-found', `Patient/${id} not found`))
    }
    deps.audit.append({
      actor: req.viewer!.email,
      action: 'fhir.Patient.read',
      outcome: 'ok',
      patientId: id,
      ip: req.ip,
    })
    return send(reply, 200, {
      resourceType: 'Patient',
      id: p.id,
      active: p.monitoring,
      name: [{ text: p.name }],
      ...(p.birthDate ? { birthDate: p.birthDate } : {}),
    })
  })

  app.get('/Device/:id', { preHandler: auth }, async (req, reply) => {
    const { id } = req.params as { id: string }
    const d = await deps.registry.getDevice(id)
    if (!d || !maySee(req.viewer!, d.patientId)) {
      deps.audit.append({
        actor: req.viewer!.email,
        action: 'fhir.Device.read',
        outcome: 'denied',
        target: id,
        ip: req.ip,
      })
      return send(reply, 404, operationOutcome('not-found', `Device/${id} not found`))
    }
    deps.audit.append({
      actor: req.viewer!.email,
      action: 'fhir.Device.read',
      outcome: 'ok',
      patientId: d.patientId,
      target: id,
      ip: req.ip,
    })
    return send(reply, 200, {
      resourceType: 'Device',
      id: d.id,
      status: d.revokedMs === undefined ? 'active' : 'inactive',
      identifier: [{ system: 'urn:vitalwire:device', value: d.id }],
      patient: { reference: `Patient/${d.patientId}` },
      ...(d.battery !== undefined
        ? {
            property: [
              {
                type: { text: 'battery level (%)' },
                valueQuantity: [
                  { value: d.battery, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
                ],
              },
            ],
          }
        : {}),
    })
  })
}
