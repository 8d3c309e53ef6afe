import { createHash } from 'node:crypto'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { VitalwireError } from '../shared/errors.ts'
import type { AuditEntry, Role } from '../storage/ports.ts'
import type { DashboardDeps } from './deps.ts'

// Who is calling: person authentication (sessions with an idle timeout), machine authentication (Bearer
// tokens), and the viewer object every route uses for object-level authorization (OWASP API1).

export interface Viewer {
  userId: number
  email: string
  role: Role
  /** Patients this viewer may see; null = all (admin). Shared between requests: never modify. */
  patients: ReadonlySet<string> | null
  via: 'session' | 'token'
  mustChangePassword: boolean
  /** For a session: the password it was opened with (passwordStamp); checked on every use. */
  stamp?: string
}

/**
 * A short fingerprint of a user's password hash, kept in the session at login. When the password
 * changes (the user's own change, or an admin's reset) every other session of that user stops working:
 * one opened with an intercepted one-time password must not become a full session when the real user
 * sets a password.
 */
export function passwordStamp(passwordHash: string): string {
  return createHash('sha256').update(passwordHash).digest('base64url').slice(0, 22)
}

declare module 'fastify' {
  interface FastifyRequest {
    viewer?: Viewer
  }
}

declare module '@fastify/session' {
  interface FastifySessionObject {
    userId?: number
    /** passwordStamp of the password the session was opened (or last changed) with. */
    pw?: string
  }
}

type Registry = DashboardDeps['registry']

/**
 * Care teams as of the registry's latest event, so a request does not read and index 1,000 rows each
 * time. Every care-team change is committed with a `user-changed` event naming the user (registry.ts), by
 * whichever process makes it; each lookup first reads the events since the last one (usually none) and
 * forgets the teams they name, so a change still applies on the next request.
 */
const careTeams = new WeakMap<Registry, { seen?: number; teams: Map<number, ReadonlySet<string>> }>()

async function careTeamOf(registry: Registry, userId: number): Promise<ReadonlySet<string>> {
  let c = careTeams.get(registry)
  if (!c) {
    c = { teams: new Map() }
    careTeams.set(registry, c)
  }
  const head = registry.lastEventId()
  if (head !== c.seen) {
    let from = c.seen ?? head
    if (c.seen === undefined || head < c.seen) c.teams.clear()
    for (; from < head; ) {
      const events = registry.eventsSince(from)
      if (events.length === 0) break
      for (const e of events) if (e.kind === 'user-changed') c.teams.delete(Number(e.subject))
      from = events[events.length - 1].id
    }
    // Seen before reading: a change committed meanwhile is read again next time, never missed.
    c.seen = head
  }
  let team = c.teams.get(userId)
  if (!team) {
    const at = c.seen
    team = new Set(await registry.careTeamOf(userId))
    // Kept only if no newer event was taken in meanwhile (it may have changed this team).
    if (c.seen === at) c.teams.set(userId, team)
  }
  return team
}

export async function viewerFor(
  deps: DashboardDeps,
  userId: number,
  via: Viewer['via'],
  stamp?: string,
): Promise<Viewer | undefined> {
  const user = await deps.registry.getUser(userId)
  if (!user || user.disabledMs !== undefined) return undefined
  // A session opened with a password that has since changed is over.
  if (via === 'session' && stamp !== passwordStamp(user.passwordHash)) return undefined
  const patients = user.role === 'admin' ? null : await careTeamOf(deps.registry, user.id)
  return {
    userId: user.id,
    email: user.email,
    role: user.role,
    patients,
    via,
    mustChangePassword: user.mustChangePassword,
    ...(via === 'session' ? { stamp } : {}),
  }
}

export function maySee(viewer: Viewer, patientId: string): boolean {
  return viewer.patients === null || viewer.patients.has(patientId)
}

/** Append an audit entry for this request: who (or "anonymous"), from where, when (the log stamps it). */
export function auditReq(
  deps: DashboardDeps,
  req: FastifyRequest,
  e: Omit<AuditEntry, 'actor' | 'ip'> & { actor?: string },
) {
  deps.audit.append({
    ...e,
    actor: e.actor ?? req.viewer?.email ?? 'anonymous',
    ip: req.ip,
  })
}

/** The routes' audit action for a denial, e.g. "GET /api/users" -> "access:GET /api/users". */
function routeName(req: FastifyRequest) {
  return `access:${req.method} ${req.routeOptions.url ?? req.url}`
}

/**
 * preHandler: resolve the viewer from the session cookie or a Bearer token, or answer 401.
 * A person still holding a one-time password may do nothing else until it is changed (see docs/api.md);
 * tokens are issued deliberately by an admin and are not passwords, so the gate does not apply to them.
 */
export function requireViewer(deps: DashboardDeps, opts: { allowMustChange?: boolean } = {}) {
  return async (req: FastifyRequest, reply: FastifyReply) => {
    const header = req.headers.authorization
    let viewer: Viewer | undefined
    // The scheme name is case-insensitive (RFC 7235 section 2.1): "bearer" and "BEARER" too.
    const bearer = header && /^bearer +(.+)$/i.exec(header)
    if (bearer) {
      const t = await deps.tokens.verify(bearer[1].trim())
      if (t && 'expiredAt' in t) {
        // Its secret matched: whoever holds it may know why it stopped working.
        auditReq(deps, req, {
          action: routeName(req),
          outcome: 'denied',
          target: `token:${t.id}`,
          detail: { reason: 'unauthenticated', token: 'expired' },
        })
        reply.header('www-authenticate', 'Bearer error="invalid_token"')
        throw new VitalwireError(
          'VW_ERR_AUTH_REQUIRED',
          `API token ${t.id} expired at ${t.expiredAt}; an admin can issue a new one`,
        )
      }
      viewer = t === undefined ? undefined : await viewerFor(deps, t.userId, 'token')
    } else {
      const userId = req.session?.userId
      viewer = userId === undefined ? undefined : await viewerFor(deps, userId, 'session', req.session.pw)
    }
    if (!viewer) {
      auditReq(deps, req, {
        action: routeName(req),
        outcome: 'denied',
        detail: { reason: 'unauthenticated' },
      })
      reply.header('www-authenticate', 'Bearer')
      throw new VitalwireError('VW_ERR_AUTH_REQUIRED')
    }
    req.viewer = viewer
    if (viewer.via === 'session' && viewer.mustChangePassword && !opts.allowMustChange) {
      auditReq(deps, req, { action: routeName(req), outcome: 'denied', detail: { reason: 'must-change' } })
      throw new VitalwireError('VW_ERR_PASSWORD_CHANGE_REQUIRED')
    }
  }
}

/** The patient a route names (`/api/patients/:id/...`), for the audit of a denial. */
function patientOfRoute(req: FastifyRequest): string | undefined {
  if (!req.routeOptions.url?.startsWith('/api/patients/:id')) return undefined
  return (req.params as { id?: string }).id
}

/** preHandler after requireViewer: role gate. 403, because which routes exist is not a secret. */
export function requireRole(deps: DashboardDeps, ...roles: Role[]) {
  return async (req: FastifyRequest) => {
    if (!req.viewer || !roles.includes(req.viewer.role)) {
      auditReq(deps, req, {
        action: routeName(req),
        outcome: 'denied',
        patientId: patientOfRoute(req),
        detail: { reason: 'role' },
      })
      throw new VitalwireError('VW_ERR_FORBIDDEN', `requires role ${roles.join(' or ')}`)
    }
  }
}

/**
 * The one answer for "does not exist" and "exists but is not yours", so existence never leaks; the
 * denial is audited with what was asked for.
 */
export function notFound(
  deps: DashboardDeps,
  req: FastifyRequest,
  action: string,
  what: { patientId?: string; target?: string },
  message: string,
): VitalwireError {
  auditReq(deps, req, { action, outcome: 'denied', ...what })
  return new VitalwireError('VW_ERR_NOT_FOUND', message)
}
