import type { FastifyInstance } from 'fastify'
import { VitalwireError } from '../../shared/errors.ts'
import { hashSecret, verifySecret } from '../../shared/secrets.ts'
import { auditReq, passwordStamp, requireViewer } from '../auth.ts'
import type { DashboardDeps } from '../deps.ts'
import { passwordProblem } from '../password-policy.ts'
import { errors, json, loginSchema, passwordChangeSchema, sessionSchema } from '../schemas.ts'

// Login, logout, the current session and the one-time password change (45 CFR 164.312(d)).

export const LOCK_AFTER_FAILURES = 5
export const LOCK_MS = 15 * 60_000
// A fixed hash verified when the email is unknown, so response time does not reveal which emails exist.
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'

/**
 * Failed logins for emails that are no account, counted like an account's, so an unknown email is locked
 * after as many failures as a real one: the answer never tells which emails exist. In memory, bounded.
 */
function createUnknownEmailLocks(now: () => number = Date.now) {
  const failures = new Map<string, { count: number; lockedUntilMs?: number }>()
  return {
    locked(email: string) {
      const f = failures.get(email)
      return f?.lockedUntilMs !== undefined && f.lockedUntilMs > now()
    },
    failed(email: string) {
      const f = failures.get(email)
      const fresh = !f || (f.lockedUntilMs !== undefined && f.lockedUntilMs <= now())
      const count = fresh ? 1 : f.count + 1
      failures.delete(email)
      if (failures.size >= 10_000) failures.delete(failures.keys().next().value!)
      failures.set(email, {
        count,
        lockedUntilMs: count >= LOCK_AFTER_FAILURES ? now() + LOCK_MS : undefined,
      })
    },
  }
}

export function sessionRoutes(app: FastifyInstance, deps: DashboardDeps) {
  const unknownEmails = createUnknownEmailLocks()
  const session = json(sessionSchema, 'output')
  const view = (u: { email: string; role: any; mustChangePassword: boolean }) => ({
    email: u.email,
    role: u.role,
    mustChangePassword: u.mustChangePassword,
    idleTimeoutMs: deps.sessionIdleMs,
  })

  app.post(
    '/api/session',
    {
      // Per-address rate limit on top of the per-account lockout: one slows guessing across many
      // accounts, the other guessing at one account from many addresses.
      config: { rateLimit: { max: 10, timeWindow: '1 minute' } },
      schema: {
        tags: ['session'],
        summary: 'log in; sets the HttpOnly session cookie',
        body: json(loginSchema),
        response: { 201: session, ...errors(400, 401, 429) },
      },
    },
    async (req, reply) => {
      const { email, password } = req.body as { email: string; password: string }
      const user = await deps.registry.getUserByEmail(email)
      const ok = await verifySecret(password, user?.passwordHash ?? DUMMY_HASH)
      const fail = (reason: string) =>
        auditReq(deps, req, { actor: email, action: 'login', outcome: 'failed', detail: { reason } })
      if (
        user
          ? user.lockedUntilMs !== undefined && user.lockedUntilMs > Date.now()
          : unknownEmails.locked(email)
      ) {
        fail('locked')
        throw new VitalwireError('VW_ERR_AUTH_LOCKED')
      }
      if (!user || !ok || user.disabledMs !== undefined) {
        if (user) await deps.registry.recordLogin(user.id, false, LOCK_AFTER_FAILURES, LOCK_MS)
        else unknownEmails.failed(email)
        fail(!user ? 'unknown-user' : user.disabledMs !== undefined ? 'disabled' : 'wrong-password')
        throw new VitalwireError('VW_ERR_AUTH_INVALID')
      }
      await deps.registry.recordLogin(user.id, true, LOCK_AFTER_FAILURES, LOCK_MS)
      // A new session id on login, so a planted cookie is never promoted to an authenticated one.
      await req.session.regenerate()
      req.session.userId = user.id
      req.session.pw = passwordStamp(user.passwordHash)
      auditReq(deps, req, { actor: email, action: 'login', outcome: 'ok' })
      reply.code(201)
      return view(user)
    },
  )

  app.get(
    '/api/session',
    {
      preHandler: requireViewer(deps, { allowMustChange: true }),
      schema: { tags: ['session'], response: { 200: session, ...errors(401) } },
    },
    async (req) => view(req.viewer!),
  )

  app.delete(
    '/api/session',
    { schema: { tags: ['session'], summary: 'log out', response: { 204: { type: 'null' } } } },
    async (req, reply) => {
      const userId = req.session?.userId
      if (userId !== undefined) {
        const user = await deps.registry.getUser(userId)
        auditReq(deps, req, { actor: user?.email ?? String(userId), action: 'logout', outcome: 'ok' })
      }
      await req.session.destroy()
      if (userId !== undefined) deps.events.emit('credentials-ended')
      reply.clearCookie('vw_session', { path: '/' })
      reply.code(204)
    },
  )

  app.post(
    '/api/session/password',
    {
      config: { rateLimit: { max: 10, timeWindow: '1 minute' } },
      preHandler: requireViewer(deps, { allowMustChange: true }),
      schema: {
        tags: ['session'],
        summary: 'replace the password (required first for a one-time password)',
        body: json(passwordChangeSchema),
        response: { 204: { type: 'null' }, ...errors(400, 401, 403, 429) },
      },
    },
    async (req, reply) => {
      const viewer = req.viewer!
      if (viewer.via !== 'session')
        throw new VitalwireError('VW_ERR_FORBIDDEN', 'passwords are changed in a login session')
      const { current, next } = req.body as { current: string; next: string }
      const user = (await deps.registry.getUser(viewer.userId))!
      if (!(await verifySecret(current, user.passwordHash))) {
        // Counts toward the lockout like a failed login: a stolen session must not become a guessing oracle.
        await deps.registry.recordLogin(user.id, false, LOCK_AFTER_FAILURES, LOCK_MS)
        auditReq(deps, req, { action: 'password.change', outcome: 'failed' })
        throw new VitalwireError('VW_ERR_AUTH_INVALID', 'current password is wrong')
      }
      const problem = passwordProblem(next, user, current)
      if (problem) throw new VitalwireError('VW_ERR_PASSWORD_WEAK', problem)
      const hash = await hashSecret(next)
      await deps.registry.setPassword(user.id, hash, false)
      // This session goes on under a new id; every other session of this user ends (auth.ts).
      await req.session.regenerate()
      req.session.userId = user.id
      req.session.pw = passwordStamp(hash)
      auditReq(deps, req, { action: 'password.change', outcome: 'ok' })
      reply.code(204)
    },
  )
}
