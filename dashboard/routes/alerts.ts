import type { FastifyInstance, FastifyRequest } from 'fastify'
import { decodeCursor, encodeCursor } from '../../shared/cursor.ts'
import { VitalwireError } from '../../shared/errors.ts'
import { auditReq, maySee, notFound, requireViewer } from '../auth.ts'
import type { DashboardDeps } from '../deps.ts'
import { alertSchema, errors, json } from '../schemas.ts'
import { alertView } from '../views.ts'

const noteBody = {
  type: 'object',
  additionalProperties: false,
  properties: { note: { type: 'string', maxLength: 2000 } },
} as const
const idParams = { type: 'object', properties: { id: { type: 'string', maxLength: 100 } } } as const

/** The position after an alert in the change feed, or a 400 for a cursor we did not issue. */
function decodeAlertCursor(cursor: string): { updatedMs: number; id: string } {
  const { ms, id } = decodeCursor(cursor)
  return { updatedMs: ms, id }
}

export function alertRoutes(app: FastifyInstance, deps: DashboardDeps) {
  const auth = requireViewer(deps)
  const tags = ['alerts']
  const alert = json(alertSchema, 'output')

  async function visibleAlert(req: FastifyRequest, id: string, action: string) {
    const a = await deps.alertStore.get(id)
    if (!a || !maySee(req.viewer!, a.patientId))
      throw notFound(deps, req, action, { target: id, patientId: a?.patientId }, `alert ${id} not found`)
    return a
  }

  app.get(
    '/api/alerts',
    {
      preHandler: auth,
      schema: {
        tags,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', enum: ['open', 'acknowledged', 'resolved'] },
            patient: { type: 'string', maxLength: 64 },
            limit: { type: 'integer', minimum: 1, maximum: 1000, default: 200 },
            changedSince: { type: 'string', format: 'date-time', maxLength: 40 },
            after: { type: 'string', maxLength: 200 },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: { alerts: { type: 'array', items: alert }, next: { type: 'string' } },
          },
          ...errors(400, 401, 403),
        },
      },
    },
    async (req) => {
      const viewer = req.viewer!
      const q = req.query as {
        status?: 'open' | 'acknowledged' | 'resolved'
        patient?: string
        limit: number
        changedSince?: string
        after?: string
      }
      // The incremental feed: alerts changed since a time, or after the last one a page returned.
      const changedAfter =
        q.after !== undefined
          ? decodeAlertCursor(q.after)
          : q.changedSince !== undefined
            ? { updatedMs: Date.parse(q.changedSince) - 1, id: '\uffff' }
            : undefined
      let patientIds = viewer.patients ? [...viewer.patients] : undefined
      if (q.patient) {
        // A patient outside the care team gives the same empty list as an unknown one, and is audited.
        if (!maySee(viewer, q.patient))
          auditReq(deps, req, { action: 'alerts.list', outcome: 'denied', patientId: q.patient })
        patientIds = maySee(viewer, q.patient) ? [q.patient] : []
      }
      const [alerts, snoozed] = await Promise.all([
        deps.alertStore.list({ status: q.status, patientIds, limit: q.limit, changedAfter }),
        deps.alertStore.snoozedBy(viewer.userId, Date.now()),
      ])
      auditReq(deps, req, {
        action: 'alerts.list',
        outcome: 'ok',
        patientId: q.patient && patientIds?.length ? q.patient : undefined,
        // With the patients it disclosed, so the patient's own audit trail lists this read (audit_patients).
        detail: {
          status: q.status,
          count: alerts.length,
          patients: [...new Set(alerts.map((a) => a.patientId))],
        },
      })
      const last = alerts.at(-1)
      // The feed's position after this page, on every page: after its last alert, or where it was when
      // nothing changed. A poller keeps it and asks again later; with no cursor at the end it had to go
      // back to a time and read again alerts it had.
      const next = !changedAfter
        ? undefined
        : last
          ? encodeCursor(Date.parse(last.updatedAt), last.id)
          : (q.after ?? encodeCursor(changedAfter.updatedMs, changedAfter.id))
      return { alerts: alerts.map((a) => alertView(a, snoozed.get(a.id))), ...(next ? { next } : {}) }
    },
  )

  for (const [verb, action] of [
    ['ack', 'acknowledge'],
    ['resolve', 'resolve'],
  ] as const) {
    app.post(
      `/api/alerts/:id/${verb}`,
      {
        // The note is optional, so the body is too: `curl -X POST .../ack` with no body is an ack.
        preValidation: async (req) => {
          if (req.body === undefined || req.body === null) req.body = {}
        },
        preHandler: auth,
        schema: {
          tags,
          params: idParams,
          body: noteBody,
          response: { 200: alert, ...errors(400, 401, 403, 404) },
        },
      },
      async (req) => {
        const { id } = req.params as { id: string }
        const a = await visibleAlert(req, id, `alert.${verb}`)
        const note = (req.body as { note?: string } | undefined)?.note
        const updated = await deps.alerts[action](a.id, req.viewer!.email, note)
        auditReq(deps, req, { action: `alert.${verb}`, outcome: 'ok', patientId: a.patientId, target: id })
        // With this user's own snooze, as GET /api/alerts has it.
        const snoozed = await deps.alertStore.snoozedBy(req.viewer!.userId, Date.now())
        return updated && alertView(updated, snoozed.get(updated.id))
      },
    )
  }

  // Snooze is per user: it hides the alert from this user's feed only, never from the rest of the team,
  // and critical alerts cannot be snoozed.
  app.post(
    '/api/alerts/:id/snooze',
    {
      preHandler: auth,
      schema: {
        tags,
        params: idParams,
        body: {
          type: 'object',
          required: ['minutes'],
          additionalProperties: false,
          properties: { minutes: { type: 'integer', minimum: 1, maximum: 24 * 60 } },
        },
        response: { 200: alert, ...errors(400, 401, 403, 404, 409) },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string }
      const a = await visibleAlert(req, id, 'alert.snooze')
      if (a.severity === 'critical') {
        auditReq(deps, req, { action: 'alert.snooze', outcome: 'denied', patientId: a.patientId, target: id })
        // The same answer as when the alert turns critical while the snooze is being recorded (alerts/).
        throw new VitalwireError('VW_ERR_ALERT_SNOOZE_CRITICAL')
      }
      const minutes = (req.body as { minutes: number }).minutes
      const until = Date.now() + minutes * 60_000
      // alerts/ records the snooze per user and in the alert's history.
      const updated = (await deps.alerts.snooze(a.id, req.viewer!.userId, req.viewer!.email, minutes)) ?? a
      auditReq(deps, req, {
        action: 'alert.snooze',
        outcome: 'ok',
        patientId: a.patientId,
        target: id,
        detail: { until: new Date(until).toISOString() },
      })
      return alertView(updated, until)
    },
  )
}
