import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { observationResource, operationOutcome } from '../../shared/fhir.ts'
import type { Device, Patient } from '../../storage/ports.ts'
import { auditReq, maySee, requireViewer } from '../auth.ts'
import type { DashboardDeps } from '../deps.ts'

// FHIR R4 reads: Observation/{id}, Patient/{id}, Device/{id}. Not-yours and not-there are the same 404.

export const FHIR_JSON = 'application/fhir+json; charset=utf-8'

export function sendFhir(reply: FastifyReply, status: number, body: unknown) {
  return reply.code(status).type(FHIR_JSON).send(body)
}

export function patientResource(p: Patient) {
  return {
    resourceType: 'Patient',
    id: p.id,
    active: p.monitoring,
    name: [{ text: p.name }],
    ...(p.birthDate ? { birthDate: p.birthDate } : {}),
  }
}

export function deviceResource(d: Device) {
  return {
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
  }
}

type Lookup = (id: string) => Promise<{ patientId: string; resource: unknown } | undefined>

export function fhirReadRoutes(app: FastifyInstance, deps: DashboardDeps) {
  const auth = requireViewer(deps)
  const reads: Record<string, Lookup> = {
    Observation: async (id) => {
      const o = await deps.readings.get(id)
      return o && { patientId: o.patientId, resource: observationResource(o) }
    },
    Patient: async (id) => {
      const p = await deps.registry.getPatient(id)
      return p && { patientId: p.id, resource: patientResource(p) }
    },
    Device: async (id) => {
      const d = await deps.registry.getDevice(id)
      return d && { patientId: d.patientId, resource: deviceResource(d) }
    },
  }
  for (const [type, lookup] of Object.entries(reads)) {
    app.get(`/${type}/:id`, { preHandler: auth }, async (req: FastifyRequest, reply) => {
      const { id } = req.params as { id: string }
      // As in search, a parameter we do not apply is an error, not silently ignored (`_elements=id`
      // would otherwise send the whole resource to a client that asked for less).
      const unknown = Object.keys(req.query as Record<string, unknown>).filter((k) => k !== '_format')
      if (unknown.length)
        return sendFhir(
          reply,
          400,
          operationOutcome(
            'not-supported',
            `parameter ${unknown.join(', ')} is not supported on a read (supported: _format)`,
          ),
        )
      // Patient/{id}: check the care team before touching storage.
      const found = type === 'Patient' && !maySee(req.viewer!, id) ? undefined : await lookup(id)
      const action = `fhir.${type}.read`
      if (!found || !maySee(req.viewer!, found.patientId)) {
        // With the patient when known (the one asked for, or the one the record belongs to), so that
        // the patient's own audit trail shows who probed it.
        const patientId = found?.patientId ?? (type === 'Patient' ? id : undefined)
        auditReq(deps, req, { action, outcome: 'denied', patientId, target: `${type}/${id}` })
        return sendFhir(reply, 404, operationOutcome('not-found', `${type}/${id} not found`))
      }
      auditReq(deps, req, { action, outcome: 'ok', patientId: found.patientId, target: `${type}/${id}` })
      return sendFhir(reply, 200, found.resource)
    })
  }
}
