import { createHash } from 'node:crypto'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { VitalwireError } from '../shared/errors.ts'
import { verifySecret } from '../shared/secrets.ts'
import type { Role } from '../storage/ports.ts'
import type { DashboardDeps } from './deps.ts'

// Person authentication (sessions with an idle timeout), machine authentication (Bearer tokens), and
// the viewer object every route uses for object-level authorization.

export interface Viewer {
  userId: number
  email: string
  role: Role
  /** Patients this viewer may see; null = all (admin). */
  patients: Set<string> | null
  via: 'session' | 'token'
}

declare module 'fastify' {
  interface FastifyRequest {
    viewer?: Viewer
  }
}

declare module '@fastify/session' {
  interface FastifySessionObject {
    userId?: number
  }
}

export const LOCK_AFTER_FAILURES = 5
export const LOCK_MS = 15 * 60_000
// A fixed hash verified when the email is unknown, so response time does not reveal which emails exist.
const DUMMY_HASH = 'scrypt$32768$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'

export async function viewerFor(
  deps: DashboardDeps,
  userId: number,
  via: Viewer['via'],
): Promise<Viewer | undefined> {
  const user = await deps.registry.getUser(userId)
  if (!user || user.disabledMs !== undefined) return undefined
  const patients = user.role === 'admin' ? null : new Set(await deps.registry.careTeamOf(user.id))
  return { userId: user.id, email: user.email, role: user.role, patients, via }
}

export function maySee(viewer: Viewer, patientId: string): boolean {
  return viewer.patients === null || viewer.patients.has(patientId)
}

export function tokenDigest(token: string): string {
  return createHash('sha256').update(token).digest('hex')
}

/** preHandler: resolve the viewer from the session cookie or a Bearer token, or answer 401. */
export function requireViewer(deps: DashboardDeps) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization
    if (header?.startsWith('Bearer ')) {
      const userId = await deps.tokens.verify(header.slice(7).trim())
      const viewer = userId === undefined ? undefined : await viewerFor(deps, userId, 'token')
      if (!viewer) throw new VitalwireError('VW_ERR_AUTH_REQUIRED', 'invalid or revoked API token')
      req.viewer = viewer
      return
    }
    const userId = req.session?.userId
    const viewer = userId === undefined ? undefined : await viewerFor(deps, userId, 'session')
    if (!viewer) {
      reply.header('www-authenticate', 'Bearer')
      throw new VitalwireError('VW_ERR_AUTH_REQUIRED')
    }
    req.viewer = viewer
  }
}

export function requireRole(...roles: Role[]) {
  return async (req: FastifyRequest) => {
    if (!req.viewer || !roles.includes(req.viewer.role)) {
      throw new VitalwireError('VW_ERR_FORBIDDEN', `requires role ${roles.join(' or ')}`)
    }
  }
}

export function sessionRoutes(app: FastifyInstance, deps: DashboardDeps) {
  app.post(
    '/api/session',
    {
      config: { rateLimit: { max: 10, timeWindow: '1 minute' } },
      schema: {
        body: {
          type: 'object',
          required: ['email', 'password'],
          additionalProperties: false,
          properties: {
            email: { type: 'string', minLength: 3, maxLength: 254 },
            password: { type: 'string', minLength: 1, maxLength: 1024 },
          },
        },
      },
    },
    async (req, reply) => {
      const { email, password } = req.body as { email: string; password: string }
      const user = await deps.registry.getUserByEmail(email)
      const now = Date.now()
      const ok = await verifySecret(password, user?.passwordHash ?? DUMMY_HASH)
      if (user && user.lockedUntilMs !== undefined && user.lockedUntilMs > now) {
        deps.audit.append({
          actor: email,
          action: 'login',
          outcome: 'denied',
          ip: req.ip,
          detail: { reason: 'locked' },
        })
        throw new VitalwireError('VW_ERR_AUTH_LOCKED')
      }
      if (!user || !ok || user.disabledMs !== undefined) {
        if (user) await deps.registry.recordLogin(user.id, false, LOCK_AFTER_FAILURES, LOCK_MS)
        deps.audit.append({ actor: email, action: 'login', outcome: 'failed', ip: req.ip })
        throw new VitalwireError('VW_ERR_AUTH_INVALID')
      }
      await deps.registry.recordLogin(user.id, true, LOCK_AFTER_FAILURES, LOCK_MS)
      await req.session.regenerate()
      req.session.userId = user.id
      deps.audit.append({ actor: email, action: 'login', outcome: 'ok', ip: req.ip })
      reply.code(201)
      return {
        email: user.email,
        role: user.role,
        mustChangePassword: user.mustChangePassword,
        idleTimeoutMs: deps.sessionIdleMs,
      }
    },
  )

  app.get('/api/session', { preHandler: requireViewer(deps) }, async (req) => {
    const v = req.viewer!
    const user = await deps.registry.getUser(v.userId)
    return {
      email: v.email,
      role: v.role,
      mustChangePassword: user?.mustChangePassword ?? false,
      idleTimeoutMs: deps.sessionIdleMs,
    }
  })

  app.delete('/api/session', async (req, reply) => {
    const userId = req.session?.userId
    if (userId !== undefined) {
      const user = await deps.registry.getUser(userId)
      deps.audit.append({ actor: user?.email ?? String(userId), action: 'logout', outcome: 'ok', ip: req.ip })
    }
    await req.session.destroy()
    reply.code(204)
  })
}
