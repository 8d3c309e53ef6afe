import type { FastifyInstance } from 'fastify'
import { isVitalType } from '../../shared/catalog.ts'
import { auditReq, maySee, notFound, requireViewer } from '../auth.ts'
import type { DashboardDeps } from '../deps.ts'
import { createRpmDays, RPM_LOOKBACK_MS } from '../rpm.ts'
import {
  errors,
  json,
  patientDetailSchema,
  readingSchema,
  readingsQuery,
  worklistSchema,
} from '../schemas.ts'
import { alertView, deviceView, patientView, readingView } from '../views.ts'
import { createWorklist } from '../worklist.ts'

export function patientRoutes(app: FastifyInstance, deps: DashboardDeps) {
  const auth = requireViewer(deps)

  async function visiblePatient(req: any, id: string) {
    const p = maySee(req.viewer, id) ? await deps.registry.getPatient(id) : undefined
    // Same answer for "does not exist" and "not yours": existence is not leaked (OWASP API1).
    if (!p) throw notFound(deps, req, 'patient.read', { patientId: id }, `patient ${id} not found`)
    return p
  }
  const tags = ['patients']
  const worklist = createWorklist(deps)
  // The worklist's audit detail, one frozen object per list of patients (the same array while the list is
  // the same), so the audit log serializes and hashes its 20 KB once, not on every request.
  const listDetails = new WeakMap<
    readonly string[],
    Readonly<{ patients: readonly string[]; count: number }>
  >()
  const listDetail = (ids: readonly string[]) => {
    let d = listDetails.get(ids)
    if (!d) {
      d = Object.freeze({ patients: Object.isFrozen(ids) ? ids : Object.freeze([...ids]), count: ids.length })
      listDetails.set(ids, d)
    }
    return d
  }

  // The worklist: every visible patient with the latest value of each vital and live alert counts.
  app.get(
    '/api/patients',
    {
      preHandler: auth,
      schema: {
        tags,
        summary: 'worklist',
        // Documents the shape (/docs); the body is built by worklist.ts already serialized, and
        // test/e2e/api-worklist-view.test.ts checks it against this schema.
        response: { 200: json(worklistSchema, 'output'), ...errors(401, 403) },
      },
    },
    async (req, reply) => {
      const viewer = req.viewer!
      const list = await worklist.render(viewer.patients, String(viewer.userId))
      // One entry for the whole list, naming every patient whose data it disclosed (HIPAA 164.312(b)).
      auditReq(deps, req, { action: 'patients.list', outcome: 'ok', detail: listDetail(list.patientIds) })
      // A Buffer with a JSON content type is sent as is (no second serialization).
      return reply.type('application/json; charset=utf-8').send(list.json)
    },
  )

  app.get(
    '/api/patients/:id',
    {
      preHandler: auth,
      schema: { tags, response: { 200: json(patientDetailSchema, 'output'), ...errors(401, 403, 404) } },
    },
    async (req) => {
      const { id } = req.params as { id: string }
      const p = await visiblePatient(req, id)
      const now = Date.now()
      const [latest, devices, alerts, days, snoozed] = await Promise.all([
        (deps.recentReadings ?? deps.readings).latest([id]),
        deps.registry.listDevices(id),
        deps.alertStore.list({ patientIds: [id], limit: 200 }),
        readingDays(deps, id, now),
        deps.alertStore.snoozedBy(req.viewer!.userId, now),
      ])
      auditReq(deps, req, { action: 'patient.read', outcome: 'ok', patientId: id })
      return {
        ...patientView(p),
        latest: Object.fromEntries(latest.map((o) => [o.type, readingView(o)])),
        devices: devices.map(deviceView),
        // With this user's own snoozes, as GET /api/alerts has them.
        alerts: alerts.map((a) => alertView(a, snoozed.get(a.id))),
        // The limits this patient's rules use, for the chart lines (not the defaults: a custom rule set).
        thresholds: deps.alerts.thresholdsFor(id, p.flags ?? {}),
        rpm: {
          periodDays: 30,
          daysWithReadings: days,
          band: days >= 16 ? '99454' : days >= 2 ? '99445' : 'none',
        },
      }
    },
  )

  app.get(
    '/api/patients/:id/readings',
    {
      preHandler: auth,
      schema: {
        tags,
        querystring: json(readingsQuery),
        response: {
          200: {
            type: 'object',
            properties: {
              readings: { type: 'array', items: json(readingSchema, 'output') },
              next: { type: 'string' },
            },
          },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (req) => {
      const { id } = req.params as { id: string }
      const q = req.query as {
        type?: string
        from?: string
        to?: string
        limit: number
        after?: string
        sort: 'asc' | 'desc'
      }
      await visiblePatient(req, id)
      const page = await deps.readings.search({
        patientIds: [id],
        types: q.type && isVitalType(q.type) ? [q.type] : undefined,
        fromMs: q.from ? Date.parse(q.from) : undefined,
        toMs: q.to ? Date.parse(q.to) : undefined,
        sort: q.sort,
        limit: q.limit,
        after: q.after,
      })
      auditReq(deps, req, {
        action: 'readings.read',
        outcome: 'ok',
        patientId: id,
        detail: { type: q.type, count: page.items.length },
      })
      return { readings: page.items.map(readingView), next: page.next }
    },
  )
}

/** Distinct days with at least one device reading in the current 30-day period (dashboard/rpm.ts). */
async function readingDays(deps: DashboardDeps, patientId: string, nowMs: number): Promise<number> {
  const days = createRpmDays()
  let after: string | undefined
  do {
    const page = await (deps.recentReadings ?? deps.readings).search({
      patientIds: [patientId],
      fromMs: nowMs - RPM_LOOKBACK_MS,
      sort: 'asc',
      limit: 5000,
      after,
    })
    for (const o of page.items) days.add(o)
    after = page.next
  } while (after)
  return days.count(nowMs)
}
