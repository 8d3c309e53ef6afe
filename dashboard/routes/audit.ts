import type { FastifyInstance } from 'fastify'
import { auditReq, requireRole, requireViewer } from '../auth.ts'
import type { DashboardDeps } from '../deps.ts'
import { auditEntrySchema, auditQuery, errors, json } from '../schemas.ts'

// Admin: read the audit log, newest first, paged with `before` (the smallest seq of the last page).
// Reading the audit log is itself audited.

export function auditRoutes(app: FastifyInstance, deps: DashboardDeps) {
  app.get(
    '/api/audit',
    {
      preHandler: [requireViewer(deps), requireRole(deps, 'admin')],
      schema: {
        tags: ['admin'],
        summary: 'audit entries, newest first',
        querystring: json(auditQuery),
        response: {
          200: {
            type: 'object',
            properties: { entries: { type: 'array', items: json(auditEntrySchema, 'output') } },
          },
          ...errors(400, 401, 403),
        },
      },
    },
    async (req) => {
      const q = req.query as {
        patient?: string
        actor?: string
        action?: string
        before?: number
        limit: number
      }
      const entries = await deps.audit.list({
        patientId: q.patient,
        actor: q.actor,
        action: q.action,
        beforeSeq: q.before,
        limit: q.limit,
      })
      auditReq(deps, req, {
        action: 'audit.read',
        outcome: 'ok',
        patientId: q.patient,
        detail: { actor: q.actor, action: q.action, count: entries.length },
      })
      return { entries }
    },
  )
}
