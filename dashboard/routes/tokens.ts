import type { FastifyInstance } from 'fastify'
import { VitalwireError } from '../../shared/errors.ts'
import { auditReq, requireRole, requireViewer } from '../auth.ts'
import type { DashboardDeps } from '../deps.ts'
import { errors, json, newTokenSchema, tokenSchema } from '../schemas.ts'

// Admin: API tokens for machine clients. A token acts as the user it was issued for (same role and
// care team); it is shown once, only its hash is stored, and it expires (90 days, or 1 to 365).

export function tokenRoutes(app: FastifyInstance, deps: DashboardDeps) {
  const admin = [requireViewer(deps), requireRole(deps, 'admin')]
  const tags = ['admin']

  app.post(
    '/api/tokens',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'issue a token acting as a user; the token is in this response only',
        body: json(newTokenSchema),
        response: {
          201: {
            type: 'object',
            properties: { id: { type: 'string' }, token: { type: 'string' }, expiresAt: { type: 'string' } },
          },
          ...errors(400, 401, 403, 404),
        },
      },
    },
    async (req, reply) => {
      const { email, label, expiresInDays } = req.body as {
        email: string
        label: string
        expiresInDays?: number
      }
      const user = await deps.registry.getUserByEmail(email)
      if (!user) throw new VitalwireError('VW_ERR_NOT_FOUND', `user ${email} not found`)
      const t = await deps.tokens.create(user.id, label, expiresInDays)
      auditReq(deps, req, {
        action: 'token.create',
        outcome: 'ok',
        target: t.id,
        detail: { user: email, label, expiresAt: t.expiresAt },
      })
      reply.code(201).header('cache-control', 'no-store')
      return t
    },
  )

  app.get(
    '/api/tokens',
    {
      preHandler: admin,
      schema: {
        tags,
        response: {
          200: {
            type: 'object',
            properties: { tokens: { type: 'array', items: json(tokenSchema, 'output') } },
          },
          ...errors(401, 403),
        },
      },
    },
    async (req) => {
      const users = new Map((await deps.registry.listUsers()).map((u) => [u.id, u.email]))
      const tokens = (await deps.tokens.list()).map((t) => ({ ...t, email: users.get(t.userId) }))
      auditReq(deps, req, { action: 'tokens.list', outcome: 'ok', detail: { count: tokens.length } })
      return { tokens }
    },
  )

  app.delete(
    '/api/tokens/:id',
    {
      preHandler: admin,
      schema: {
        tags,
        params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } },
        response: { 204: { type: 'null' }, ...errors(401, 403, 404) },
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string }
      if (!(await deps.tokens.revoke(id)))
        throw new VitalwireError('VW_ERR_NOT_FOUND', `token ${id} not found or already revoked`)
      auditReq(deps, req, { action: 'token.revoke', outcome: 'ok', target: id })
      deps.events.emit('credentials-ended')
      reply.code(204)
    },
  )
}
