import type { FastifyInstance } from 'fastify'
import type { WebSocket } from 'ws'
import type { Alert } from '../shared/alert.ts'
import { VitalwireError } from '../shared/errors.ts'
import type { DeviceStatus } from '../shared/events.ts'
import { observationResource, type StoredObservation } from '../shared/fhir.ts'
import { auditReq, maySee, requireViewer, type Viewer, viewerFor } from './auth.ts'
import type { DashboardDeps } from './deps.ts'
import { foreignOrigin } from './origin.ts'
import { alertView } from './views.ts'

// The push hub: each dashboard socket gets only messages about patients its viewer may see.

const MAX_BUFFERED_BYTES = 4 * 1024 * 1024

/** What a socket was opened with, re-checked periodically: automatic logoff reaches open sockets too. */
type Credential = { kind: 'session'; sid: string } | { kind: 'token'; token: string }

function samePatients(a: ReadonlySet<string> | null, b: ReadonlySet<string> | null): boolean {
  if (a === null || b === null) return a === b
  if (a.size !== b.size) return false
  for (const p of a) if (!b.has(p)) return false
  return true
}

export function websocketRoutes(app: FastifyInstance, deps: DashboardDeps) {
  const sockets = new Map<WebSocket, Viewer>()
  const credentials = new Map<WebSocket, Credential>()

  const stillValid = (c: Credential): Promise<boolean> =>
    c.kind === 'token'
      ? deps.tokens.verify(c.token).then((t) => t !== undefined && 'userId' in t)
      : new Promise((resolve) => deps.sessionStore.get(c.sid, (err, s) => resolve(!err && Boolean(s))))
  // Pushed data is not user activity: a session that idles out, or is logged out or whose token is
  // revoked elsewhere (the CLI, another server), loses its socket within one recheck interval; a logout
  // or revocation on this server closes it at once ('credentials-ended').
  const checkAll = async () => {
    for (const [ws, c] of credentials) {
      if (!(await stillValid(c))) ws.close(4401, 'session ended')
    }
  }
  const recheck = setInterval(
    checkAll,
    deps.wsRecheckMs ?? Math.min(15_000, Math.max(100, deps.sessionIdleMs / 2)),
  )
  recheck.unref()
  const onEnded = () => void checkAll()

  function broadcast(patientId: string, message: () => string) {
    let text: string | undefined
    for (const [ws, viewer] of sockets) {
      if (!maySee(viewer, patientId)) continue
      if (ws.bufferedAmount > MAX_BUFFERED_BYTES) {
        // A consumer that cannot keep up is closed; its page reconnects and reloads the worklist.
        ws.close(1013, 'too slow')
        continue
      }
      text ??= message()
      ws.send(text)
    }
  }

  const onObservations = (batch: StoredObservation[]) => {
    for (const o of batch)
      broadcast(o.patientId, () =>
        JSON.stringify({ type: 'observation', patientId: o.patientId, observation: observationResource(o) }),
      )
  }
  const onAlert = (type: 'alert' | 'alert-updated') => (a: Alert) =>
    broadcast(a.patientId, () => JSON.stringify({ type, alert: alertView(a) }))
  const onNew = onAlert('alert')
  const onUpdated = onAlert('alert-updated')
  const onStatus = (s: DeviceStatus) =>
    broadcast(s.patientId, () =>
      JSON.stringify({
        type: 'device-status',
        deviceId: s.deviceId,
        patientId: s.patientId,
        connected: s.connected,
        lastSeen: s.lastSeen,
        battery: s.battery,
      }),
    )
  const onRegistry = async (e: { kind: string; subject: string }) => {
    if (e.kind !== 'user-changed' && e.kind !== 'patient-added') return
    for (const [ws, viewer] of sockets) {
      if (e.kind === 'user-changed' && String(viewer.userId) !== e.subject) continue
      const fresh = await viewerFor(deps, viewer.userId, viewer.via, viewer.stamp)
      if (!fresh) {
        ws.close(1008, 'access revoked')
        continue
      }
      sockets.set(ws, fresh)
      // Patients this viewer may now see, or no longer: the page reloads its worklist (a patient added
      // to the care team mid-shift appears; one removed goes, with its alerts).
      const changed =
        e.kind === 'patient-added' ? maySee(fresh, e.subject) : !samePatients(viewer.patients, fresh.patients)
      if (changed) ws.send(JSON.stringify({ type: 'access-changed' }))
    }
  }

  deps.events.on('observations', onObservations)
  deps.events.on('alert', onNew)
  deps.events.on('alert-updated', onUpdated)
  deps.events.on('device-status', onStatus)
  deps.events.on('registry-changed', onRegistry)
  deps.events.on('credentials-ended', onEnded)
  app.addHook('onClose', async () => {
    clearInterval(recheck)
    deps.events.off('credentials-ended', onEnded)
    deps.events.off('observations', onObservations)
    deps.events.off('alert', onNew)
    deps.events.off('alert-updated', onUpdated)
    deps.events.off('device-status', onStatus)
    deps.events.off('registry-changed', onRegistry)
    for (const ws of sockets.keys()) ws.close(1001, 'server shutting down')
  })

  app.route({
    method: 'GET',
    url: '/ws',
    preHandler: [
      requireViewer(deps),
      // A browser always says which page opened the socket: only the dashboard's own (origin.ts).
      async (req) => {
        const origin = foreignOrigin(req)
        if (origin !== undefined) {
          auditReq(deps, req, {
            action: 'ws.connect',
            outcome: 'denied',
            detail: { reason: 'origin', origin },
          })
          throw new VitalwireError('VW_ERR_FORBIDDEN', 'WebSocket from another origin')
        }
      },
    ],
    schema: { hide: true },
    // A plain GET (no upgrade) gets the API's error shape rather than an empty 404.
    handler: async () => {
      throw new VitalwireError('VW_ERR_NOT_FOUND', 'GET /ws needs a WebSocket upgrade')
    },
    wsHandler: (socket, req) => {
      const viewer = req.viewer!
      sockets.set(socket, viewer)
      const header = req.headers.authorization
      credentials.set(
        socket,
        viewer.via === 'token' && header
          ? { kind: 'token', token: header.slice(7).trim() }
          : { kind: 'session', sid: req.session.sessionId },
      )
      deps.metrics.wsClients.set(sockets.size)
      // The socket will push these patients' readings and alerts: each one's audit trail shows it
      // (`?patient=`). An admin's covers every patient, as the worklist read beside it records.
      auditReq(deps, req, {
        action: 'ws.connect',
        outcome: 'ok',
        detail: viewer.patients ? { patients: [...viewer.patients] } : { scope: 'all patients' },
      })
      socket.send(JSON.stringify({ type: 'hello', email: viewer.email, role: viewer.role }))
      // The socket carries no commands; anything a client sends is ignored.
      socket.on('close', () => {
        sockets.delete(socket)
        credentials.delete(socket)
        deps.metrics.wsClients.set(sockets.size)
      })
    },
  })
}
