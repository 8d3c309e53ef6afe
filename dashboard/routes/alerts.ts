import type { FastifyInstance } from 'fastify'
import { VitalwireError } from '../../shared/errors.ts'
import { maySee, requireViewer } from '../auth.ts'
import type { DashboardDeps } from '../deps.ts'
import { alertView } from '../views.ts'

const noteBody = {
  type: 'object',
  additionalProperties: false,
  properties: { note: { type: 'string', maxLength: 2000 } },
} as const

export function alertRoutes(app: FastifyInstance, deps: DashboardDeps) {
  const auth = requireViewer(deps)

  async function visibleAlert(req: any, id: string) {
    const a = await deps.alertStore.get(id)
    if (!a || !maySee(req.viewer, a.patientId)) {
      deps.audit.append({
        actor: req.viewer.email,
        action: 'alert.read',
        outcome: 'denied',
        target: id,
        ip: req.ip,
      })
      throw new VitalwireError('VW_ERR_NOT_FOUND', `alert ${id} not found`)
    }
    return a
  }

  app.get(
    '/api/alerts',
    {
      preHandler: auth,
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['open', 'acknowledged', 'resolved'] },
            patient: { type: 'string', maxLength: 64 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 },
          },
        },
      },
    },
    async (req) => {
      const viewer = req.viewer!
      const q = req.query as {
        status?: 'open' | 'acknowledged' | 'resolved'
        patient?: string
        limit: number
      }
      let patientIds = viewer.patients ? [...viewer.patients] : undefined
      if (q.patient) patientIds = maySee(viewer, q.patient) ? [q.patient] : []
      const [alerts, snoozed] = await Promise.all([
        deps.alertStore.list({ status: q.status, patientIds, limit: q.limit }),
        deps.alertStore.snoozedBy(viewer.userId, Date.now()),
      ])
      deps.audit.append({
        actor: viewer.email,
        action: 'alerts.list',
        outcome: 'ok',
        ip: req.ip,
        detail: { status: q.status, count: alerts.length },
      })
      return { alerts: alerts.map((a) => alertView(a, snoozed.get(a.id))) }
    },
  )

  app.post('/api/alerts/:id/ack', { preHandler: auth, schema: { body: noteBody } }, async (req) => {
    const { id } = req.params as { id: string }
    const a = await visibleAlert(req, id)
    const note = (req.body as { note?: string } | undefined)?.note
    const updated = await deps.alerts.acknowledge(a.id, req.viewer!.email, note)
    deps.audit.append({
      actor: req.viewer!.email,
      action: 'alert.ack',
      outcome: 'ok',
      patientId: a.patientId,
      target: id,
      ip: req.ip,
    })
    return updated
  })

  app.post('/api/alerts/:id/resolve', { preHandler: auth, schema: { body: noteBody } }, async (req) => {
    const { id } = req.params as { id: string }
    const a = await visibleAlert(req, id)
    const note = (req.body as { note?: string } | undefined)?.note
    const updated = await deps.alerts.resolve(a.id, req.viewer!.email, note)
    deps.audit.append({
      actor: req.viewer!.email,
      action: 'alert.resolve',
      outcome: 'ok',
      patientId: a.patientId,
      target: id,
      ip: req.ip,
    })
    return updated
  })

  // Snooze is per user: it hides the alert from this user's feed only, never from the rest of the team,
  // and critical alerts cannot be snoozed.
  app.post(
    '/api/alerts/:id/snooze',
    {
      preHandler: auth,
      schema: {
        body: {
          type: 'object',
          required: ['minutes'],
          additionalProperties: false,
          properties: { minutes: { type: 'integer', minimum: 1, maximum: 24 * 60 } },
        },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string }
      const a = await visibleAlert(req, id)
      if (a.severity === 'critical')
        throw new VitalwireError('VW_ERR_FORBIDDEN', 'critical alerts cannot be snoozed')
      const until = Date.now() + (req.body as { minutes: number }).minutes * 60_000
      await deps.alertStore.snooze(a.id, req.viewer!.userId, until)
      deps.audit.append({
        actor: req.viewer!.email,
        action: 'alert.snooze',
        outcome: 'ok',
        patientId: a.patientId,
        target: id,
        ip: req.ip,
        detail: { until: new Date(until).toISOString() },
      })
      return alertView(a, until)
    },
  )
}
