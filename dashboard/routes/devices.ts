import type { FastifyInstance } from 'fastify'
import { VitalwireError } from '../../shared/errors.ts'
import { maySee, requireRole, requireViewer } from '../auth.ts'
import type { DashboardDeps } from '../deps.ts'
import { deviceView } from '../views.ts'

export function deviceRoutes(app: FastifyInstance, deps: DashboardDeps) {
  const auth = requireViewer(deps)
  const admin = requireRole('admin')

  app.get('/api/devices', { preHandler: auth }, async (req) => {
    const viewer = req.viewer!
    const devices = (await deps.registry.listDevices()).filter((d) => maySee(viewer, d.patientId))
    deps.audit.append({
      actor: viewer.email,
      action: 'devices.list',
      outcome: 'ok',
      ip: req.ip,
      detail: { count: devices.length },
    })
    return { devices: devices.map(deviceView) }
  })

  app.post(
    '/api/devices',
    {
      preHandler: [auth, admin],
      schema: {
        body: {
          type: 'object',
          required: ['id', 'patientId'],
          additionalProperties: false,
          properties: {
            id: { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$' },
            patientId: { type: 'string', minLength: 1, maxLength: 64 },
            type: { type: 'string', minLength: 1, maxLength: 64, default: 'generic' },
            auth: { type: 'string', enum: ['secret', 'cert'], default: 'secret' },
          },
        },
      },
    },
    async (req, reply) => {
      const body = req.body as { id: string; patientId: string; type: string; auth: 'secret' | 'cert' }
      const enrolled = await deps.enroll(body)
      deps.audit.append({
        actor: req.viewer!.email,
        action: 'device.enroll',
        outcome: 'ok',
        patientId: body.patientId,
        target: body.id,
        ip: req.ip,
      })
      reply.code(201).header('cache-control', 'no-store')
      return enrolled
    },
  )

  app.delete('/api/devices/:id', { preHandler: [auth, admin] }, async (req, reply) => {
    const { id } = req.params as { id: string }
    const d = await deps.registry.getDevice(id)
    if (!d) throw new VitalwireError('VW_ERR_NOT_FOUND', `device ${id} not found`)
    await deps.revokeDevice(id)
    deps.audit.append({
      actor: req.viewer!.email,
      action: 'device.revoke',
      outcome: 'ok',
      patientId: d.patientId,
      target: id,
      ip: req.ip,
    })
    reply.code(204)
  })
}
