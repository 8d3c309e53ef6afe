import type { FastifyInstance } from 'fastify'
import { VitalwireError } from '../../shared/errors.ts'
import { addUser, resetPassword, setUserDisabled } from '../../shared/provisioning.ts'
import type { Role } from '../../storage/ports.ts'
import { auditReq, requireRole, requireViewer } from '../auth.ts'
import type { DashboardDeps } from '../deps.ts'
import { careTeamSchema, errors, json, newUserSchema, userSchema } from '../schemas.ts'

// Admin: users and care teams. A new user gets a one-time password, shown once.

export function userRoutes(app: FastifyInstance, deps: DashboardDeps) {
  const admin = [requireViewer(deps), requireRole(deps, 'admin')]
  const tags = ['admin']
  const user = json(userSchema, 'output')

  async function view(id: number) {
    const u = await deps.registry.getUser(id)
    if (!u) return undefined
    return {
      id: u.id,
      email: u.email,
      role: u.role,
      patients: await deps.registry.careTeamOf(u.id),
      mustChangePassword: u.mustChangePassword,
      locked: u.lockedUntilMs !== undefined && u.lockedUntilMs > Date.now(),
      disabled: u.disabledMs !== undefined,
    }
  }
  const idParam = { type: 'object', properties: { id: { type: 'integer', minimum: 1 } } } as const
  /** A new user's, or a reset's, password: in this answer only. */
  const oneTimePassword = {
    type: 'object',
    properties: { email: { type: 'string' }, password: { type: 'string' } },
  } as const

  app.get(
    '/api/users',
    {
      preHandler: admin,
      schema: {
        tags,
        response: {
          200: { type: 'object', properties: { users: { type: 'array', items: user } } },
          ...errors(401, 403),
        },
      },
    },
    async (req) => {
      const users = await Promise.all((await deps.registry.listUsers()).map((u) => view(u.id)))
      auditReq(deps, req, { action: 'users.list', outcome: 'ok', detail: { count: users.length } })
      return { users }
    },
  )

  app.post(
    '/api/users',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: 'add a user; the one-time password is in this response only',
        body: json(newUserSchema),
        response: {
          201: oneTimePassword,
          ...errors(400, 401, 403, 404, 409),
        },
      },
    },
    async (req, reply) => {
      const body = req.body as { email: string; role: Role; patients: string[] }
      const created = await addUser(deps.registry, body)
      auditReq(deps, req, {
        action: 'user.add',
        outcome: 'ok',
        target: body.email,
        detail: { role: body.role, patients: body.patients },
      })
      reply.code(201).header('cache-control', 'no-store')
      return created
    },
  )

  // Disable or enable an account (someone who left, a compromised account): their sessions, tokens and
  // WebSockets stop at once. Not one's own: an admin who locks themselves out needs the CLI.
  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    app.post(
      `/api/users/:id/${verb}`,
      {
        preHandler: admin,
        schema: {
          tags,
          summary: `${verb} a user${disabled ? ': their sessions, tokens and WebSockets stop at once' : ''}`,
          params: idParam,
          response: { 200: user, ...errors(400, 401, 403, 404, 409) },
        },
      },
      async (req) => {
        const { id } = req.params as { id: number }
        if (disabled && id === req.viewer!.userId)
          throw new VitalwireError('VW_ERR_CONFLICT', 'you cannot disable your own account')
        const u = await setUserDisabled(deps.registry, id, disabled)
        auditReq(deps, req, { action: `user.${verb}`, outcome: 'ok', target: u.email })
        return view(id)
      },
    )
  }

  app.post(
    '/api/users/:id/password',
    {
      preHandler: admin,
      schema: {
        tags,
        summary:
          'reset a password: a new one-time password, in this response only; the old one and its sessions stop working',
        params: idParam,
        response: {
          201: oneTimePassword,
          ...errors(400, 401, 403, 404, 409),
        },
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: number }
      // One's own: the reset would end this very session before its one-time password could be used.
      if (id === req.viewer!.userId)
        throw new VitalwireError(
          'VW_ERR_CONFLICT',
          'you cannot reset your own password here: change it with POST /api/session/password',
        )
      const reset = await resetPassword(deps.registry, id)
      auditReq(deps, req, { action: 'user.password-reset', outcome: 'ok', target: reset.email })
      reply.code(201).header('cache-control', 'no-store')
      return reset
    },
  )

  app.put(
    '/api/users/:id/patients',
    {
      preHandler: admin,
      schema: {
        tags,
        summary: "replace a user's care team",
        params: idParam,
        body: json(careTeamSchema),
        response: { 200: user, ...errors(400, 401, 403, 404) },
      },
    },
    async (req) => {
      const { id } = req.params as { id: number }
      const { patients } = req.body as { patients: string[] }
      if (!(await deps.registry.getUser(id)))
        throw new VitalwireError('VW_ERR_NOT_FOUND', `user ${id} not found`)
      const unique = [...new Set(patients)]
      for (const p of unique) {
        if (!(await deps.registry.getPatient(p)))
          throw new VitalwireError('VW_ERR_NOT_FOUND', `patient ${p} not found`)
      }
      await deps.registry.setCareTeam(id, unique)
      auditReq(deps, req, {
        action: 'user.care-team',
        outcome: 'ok',
        target: String(id),
        detail: { patients: unique },
      })
      return view(id)
    },
  )
}
