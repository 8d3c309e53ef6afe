import { DatabaseSync } from 'node:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type ApiResponse, type Caller, call, eventually } from '../helpers/api-client.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { type Ctx, MATRIX, ROUTE_PREFIXES_PUBLIC, type Role } from './access-matrix.ts'

// Object-level authorization (OWASP API1), walked over EVERY route the server registers: each route
// is called as admin, as two members of team A (coordinator, clinician), as an outsider (coordinator of
// team B) and anonymously. A response that carries another team's data fails the test, and so does a
// route that has no entry in the matrix.

let h: Harness
const ctx = {} as Ctx
const callers = {} as Record<Role, Caller | undefined>
const results: { route: string; role: Role; res: ApiResponse }[] = []

async function publish(device: string, secret: string, reading: object) {
  const c = await h.connectDevice(device, { secret })
  await c.publishAsync(`rpm/v1/devices/${device}/readings`, JSON.stringify(reading), { qos: 1 })
}

beforeAll(async () => {
  h = await startHarness()
  await h.enrollPatient('pat-a', { name: 'Zelda Teamaname' })
  await h.enrollPatient('pat-b', { name: 'Yorick Teambname' })
  const devA = await h.enrollDevice('dev-a', 'pat-a')
  const devB = await h.enrollDevice('dev-b', 'pat-b')
  await h.enrollDevice('dev-a-spare', 'pat-a')
  const pw = {
    admin: await h.addUser('admin@example.org', 'admin'),
    coordinator: await h.addUser('coord-a@example.org', 'coordinator', ['pat-a']),
    clinician: await h.addUser('clin-a@example.org', 'clinician', ['pat-a']),
    outsider: await h.addUser('coord-b@example.org', 'coordinator', ['pat-b']),
  }
  await h.addUser('spare@example.org', 'clinician', [])
  callers.admin = { name: 'admin', cookie: await h.login('admin@example.org', pw.admin) }
  callers.coordinator = { name: 'coordinator', cookie: await h.login('coord-a@example.org', pw.coordinator) }
  callers.clinician = { name: 'clinician', cookie: await h.login('clin-a@example.org', pw.clinician) }
  callers.outsider = { name: 'outsider', cookie: await h.login('coord-b@example.org', pw.outsider) }
  callers.anonymous = undefined

  // Sockets first, so pushes are observed too.
  for (const role of ['admin', 'coordinator', 'clinician', 'outsider'] as const) {
    ctx.sockets ??= {} as Ctx['sockets']
    const ws = new WebSocket(`${h.httpUrl.replace(/^http/, 'ws')}/ws`, {
      headers: { cookie: callers[role]!.cookie! },
    })
    const messages: string[] = []
    ws.on('message', (d) => messages.push(String(d)))
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    ctx.sockets[role] = { ws, messages }
  }
  // Heart rate 150 opens a "high" alert for each patient.
  await publish('dev-a', devA.secret!, { id: 'r-a', type: 'heart-rate', value: 150, unit: 'bpm' })
  await publish('dev-b', devB.secret!, { id: 'r-b', type: 'heart-rate', value: 151, unit: 'bpm' })
  const admin = callers.admin!
  await eventually(async () => {
    // Each patient has at least one live alert (threshold and, by default, NEWS2 rules may both fire).
    const seen = new Set(
      (await call(h.httpUrl, admin, 'GET', '/api/alerts')).body.alerts.map((a: any) => a.patientId),
    )
    return seen.has('pat-a') && seen.has('pat-b')
  }, 20_000)
  const alerts = (await call(h.httpUrl, admin, 'GET', '/api/alerts')).body.alerts
  const obs = (await call(h.httpUrl, admin, 'GET', '/fhir/r4/Observation')).body.entry
  const users = (await call(h.httpUrl, admin, 'GET', '/api/users')).body.users
  const token = await call(h.httpUrl, admin, 'POST', '/api/tokens', {
    email: 'spare@example.org',
    label: 'x',
  })
  Object.assign(ctx, {
    alertA: alerts.find((a: any) => a.patientId === 'pat-a').id,
    alertB: alerts.find((a: any) => a.patientId === 'pat-b').id,
    obsA: obs.find((e: any) => e.resource.subject.reference === 'Patient/pat-a').resource.id,
    obsB: obs.find((e: any) => e.resource.subject.reference === 'Patient/pat-b').resource.id,
    spareUserId: users.find((u: any) => u.email === 'spare@example.org').id,
    spareTokenId: token.body.id,
  })
  ctx.markers = {
    a: ['pat-a', 'Zelda Teamaname', 'dev-a', ctx.obsA, ctx.alertA],
    b: ['pat-b', 'Yorick Teambname', 'dev-b', ctx.obsB, ctx.alertB],
  }
  // Sockets must have seen their own team's pushes before they are judged.
  for (const role of ['admin', 'coordinator', 'clinician'] as const)
    await eventually(() => ctx.sockets[role].messages.some((m) => m.includes('Patient/pat-a')))
  await eventually(() => ctx.sockets.outsider.messages.some((m) => m.includes('Patient/pat-b')))
}, 180_000)

afterAll(async () => {
  for (const s of Object.values(ctx.sockets ?? {})) s.ws.close()
  await h?.close()
})

/** Markers of data the role must never receive: the other team's (admins may see all). */
function forbiddenFor(role: Role): string[] {
  if (role === 'admin') return []
  if (role === 'outsider') return ctx.markers.a
  if (role === 'anonymous') return [...ctx.markers.a, ...ctx.markers.b]
  return ctx.markers.b
}

function leaks(role: Role, text: string, request: string): string[] {
  // A caller may of course get back what it sent (an id echoed in "patient pat-a not found").
  return forbiddenFor(role).filter((m) => text.includes(m) && !request.includes(m))
}

describe('access matrix', () => {
  it('walks every registered route with every role and leaks nothing across care teams', async () => {
    const registered = h.running.httpRoutes!().map((r) => `${r.method} ${r.url}`)
    const uncovered = registered.filter(
      (r) => !(r in MATRIX) && !ROUTE_PREFIXES_PUBLIC.some((p) => r.startsWith(`GET ${p}`)),
    )
    expect(uncovered, 'routes without an access-matrix entry').toEqual([])
    expect(
      Object.keys(MATRIX).filter((r) => !registered.includes(r)),
      'stale matrix entries',
    ).toEqual([])

    const failures: string[] = []
    // Logging out is last, so it does not end the sessions the other routes use.
    const order = Object.keys(MATRIX).sort(
      (x, y) => Number(x === 'DELETE /api/session') - Number(y === 'DELETE /api/session'),
    )
    for (const route of order) {
      const spec = MATRIX[route]
      for (const role of ['admin', 'coordinator', 'clinician', 'outsider', 'anonymous'] as const) {
        const [method] = route.split(' ')
        const path = spec.path(ctx, role)
        const body = spec.body?.(ctx, role)
        const res = await call(h.httpUrl, callers[role], method, path, body)
        results.push({ route, role, res })
        const want = spec.expect[role]
        if (res.status !== want)
          failures.push(`${route} as ${role}: ${res.status}, want ${want}: ${res.text.slice(0, 200)}`)
        const leaked = leaks(role, res.text, `${path} ${JSON.stringify(body ?? '')}`)
        if (leaked.length) failures.push(`${route} as ${role} LEAKED ${leaked.join(', ')}`)
        if (res.status >= 400 && !path.startsWith('/fhir/')) {
          if (!res.body?.error?.code?.startsWith('VW_ERR_'))
            failures.push(`${route} as ${role}: error shape ${res.text}`)
        }
      }
    }
    expect(failures).toEqual([])
  }, 180_000)

  it('answers "not yours" exactly like "does not exist"', async () => {
    const outsider = callers.outsider!
    for (const [mine, none] of [
      ['/api/patients/pat-a', '/api/patients/pat-zz'],
      ['/api/patients/pat-a/readings', '/api/patients/pat-zz/readings'],
      ['/fhir/r4/Patient/pat-a', '/fhir/r4/Patient/pat-zz'],
      ['/fhir/r4/Device/dev-a', '/fhir/r4/Device/dev-zz'],
      [`/fhir/r4/Observation/${ctx.obsA}`, '/fhir/r4/Observation/obs-zz'],
      [`/api/alerts/${ctx.alertA}/ack`, '/api/alerts/alert-zz/ack'],
    ]) {
      const method = mine.endsWith('/ack') ? 'POST' : 'GET'
      const a = await call(h.httpUrl, outsider, method, mine, method === 'POST' ? {} : undefined)
      const b = await call(h.httpUrl, outsider, method, none, method === 'POST' ? {} : undefined)
      const norm = (t: string, id: string) => t.replaceAll(id, 'ID')
      expect(a.status, mine).toBe(b.status)
      const idA =
        mine.split('/')[mine.endsWith('/ack') || mine.endsWith('/readings') ? 3 : mine.split('/').length - 1]
      const idB =
        none.split('/')[none.endsWith('/ack') || none.endsWith('/readings') ? 3 : none.split('/').length - 1]
      expect(norm(a.text, idA), mine).toBe(norm(b.text, idB))
    }
  })

  it('pushes over WebSocket only what each viewer may see, and refuses anonymous sockets', async () => {
    for (const role of ['admin', 'coordinator', 'clinician', 'outsider'] as const) {
      const leaked = ctx.sockets[role].messages.flatMap((m) => leaks(role, m, ''))
      expect(leaked, role).toEqual([])
    }
    expect(ctx.sockets.admin.messages.some((m) => m.includes('Patient/pat-b'))).toBe(true)
    const anon = new WebSocket(`${h.httpUrl.replace(/^http/, 'ws')}/ws`)
    const status = await new Promise<number>((resolve) => {
      anon.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0))
      anon.once('open', () => resolve(101))
    })
    expect(status).toBe(401)
  })

  it('audits every denial with who asked and for what', async () => {
    const denials = results.filter(
      (r) => r.role === 'outsider' && [403, 404].includes(r.res.status) && r.route !== 'GET /ws',
    ).length
    expect(denials).toBeGreaterThan(10)
    const count = () => {
      const db = new DatabaseSync(`${h.dataDir}/vitalwire.db`)
      try {
        return (
          db
            .prepare(
              "SELECT COUNT(*) AS n FROM audit WHERE actor = 'coord-b@example.org' AND outcome = 'denied'",
            )
            .get() as any
        ).n
      } finally {
        db.close()
      }
    }
    await eventually(() => count() >= denials).catch(() => expect(count()).toBeGreaterThanOrEqual(denials))
  })
})
