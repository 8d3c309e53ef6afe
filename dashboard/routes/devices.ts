import type { FastifyInstance } from 'fastify'
import { VitalwireError } from '../../shared/errors.ts'
import { auditReq, maySee, requireRole, requireViewer } from '../auth.ts'
import type { DashboardDeps } from '../deps.ts'
import { deviceSchema, errors, json } from '../schemas.ts'
import { deviceView } from '../views.ts'

export function deviceRoutes(app: FastifyInstance, deps: DashboardDeps) {
  const auth = requireViewer(deps)
  const admin = requireRole(deps, 'admin')
  const tags = ['devices']

  app.get(
    '/api/devices',
    {
      preHandler: auth,
      schema: {
        tags,
        response: {
          200: {
            type: 'object',
            properties: { devices: { type: 'array', items: json(deviceSchema, 'output') } },
          },
          ...errors(401, 403),
        },
      },
    },
    async (req) => {
      const viewer = req.viewer!
      const devices = (await deps.registry.listDevices()).filter((d) => maySee(viewer, d.patientId))
      // With the patients it disclosed, so the patient's own audit trail lists this read (audit_patients).
      auditReq(deps, req, {
        action: 'devices.list',
        outcome: 'ok',
        detail: { count: devices.length, patients: [...new Set(devices.map((d) => d.patientId))] },
      })
      return { devices: devices.map(deviceView) }
    },
  )

  app.post(
    '/api/devices',
    {
      preHandler: [auth, admin],
      schema: {
        tags,
        summary: 'enroll a device; the secret (or key path) is in this response only',
        response: {
          201: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              patientId: { type: 'string' },
              auth: { type: 'string' },
              secret: { type: 'string' },
              cert: { type: 'string' },
              key: { type: 'string' },
              ca: { type: 'string' },
              fingerprint: { type: 'string' },
              notAfter: { type: 'string' },
            },
          },
          ...errors(400, 401, 403, 404, 409),
        },
        body: {
          type: 'object',
          required: ['id', 'patientId'],
          additionalProperties: false,
          properties: {
            id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$' },
            patientId: { type: 'string', minLength: 1, maxLength: 64 },
            type: { type: 'string', minLength: 1, maxLength: 64, default: 'generic' },
            auth: { type: 'string', enum: ['secret', 'cert'], default: 'secret' },
            certificate: {
              type: 'string',
              maxLength: 16384,
              description:
                'with auth cert: a PEM certificate your device CA issued for CN = id, registered as it is (by fingerprint) instead of issuing one',
            },
          },
        },
      },
    },
    async (req, reply) => {
      const body = req.body as {
        id: string
        patientId: string
        type: string
        auth: 'secret' | 'cert'
        certificate?: string
      }
      if (body.certificate !== undefined && body.auth !== 'cert')
        throw new VitalwireError('VW_ERR_VALIDATION', 'certificate needs auth "cert"')
      const enrolled = await deps.enroll(body)
      auditReq(deps, req, {
        action: 'device.enroll',
        outcome: 'ok',
        patientId: body.patientId,
        target: body.id,
      })
      reply.code(201).header('cache-control', 'no-store')
      return enrolled
    },
  )

  app.delete(
    '/api/devices/:id',
    {
      preHandler: [auth, admin],
      schema: {
        tags,
        summary: 'revoke a device (disconnects it at once)',
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } },
        response: { 204: { type: 'null' }, ...errors(401, 403, 404, 409) },
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string }
      const d = await deps.registry.getDevice(id)
      if (!d) throw new VitalwireError('VW_ERR_NOT_FOUND', `device ${id} not found`)
      // Revoked already: nothing changes, and the answer says so (a 204 here was audited as a second
      // revocation), like an action on a resolved alert or a revoked token.
      if (d.revokedMs !== undefined)
        throw new VitalwireError(
          'VW_ERR_CONFLICT',
          `device ${id} was already revoked at ${new Date(d.revokedMs).toISOString()}; nothing changed`,
        )
      await deps.revokeDevice(id)
      auditReq(deps, req, { action: 'device.revoke', outcome: 'ok', patientId: d.patientId, target: id })
      reply.code(204)
    },
  )
}
