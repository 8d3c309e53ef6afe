import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { WebSocket } from 'ws'
import type { Alert } from '../../shared/alert.ts'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'
import { alertFixture } from '../contract/fixtures.ts'
import { type Caller, call } from '../helpers/api-client.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'

// The admin API as the web UI uses it, and the OpenAPI document at /docs.

let h: Harness
let admin: Caller
beforeAll(async () => {
  h = await startHarness({ only: ['dashboard'] })
  admin = {
    name: 'admin',
    cookie: await h.login('admin@example.org', await h.addUser('admin@example.org', 'admin')),
  }
  // The patient the body, error and alert tests below act on, each on its own.
  await h.enrollPatient('p10', { name: 'Katherine Johnson' })
})
afterAll(async () => h.close())

/** Alerts written straight into the server's database (a second connection, as the CLI opens one). */
async function insertAlerts(...alerts: Alert[]) {
  const s = openEmbeddedStorage({
    dataDir: h.dataDir,
    dbPath: path.join(h.dataDir, 'vitalwire.db'),
    outbox: false,
  })
  try {
    for (const a of alerts) await s.alerts.insert(a)
  } finally {
    s.close()
  }
}

describe('admin API', () => {
  it('enrolls patients, creates a user with a one-time password, and assigns the care team', async () => {
    const created = await call(h.httpUrl, admin, 'POST', '/api/patients', {
      id: 'p9',
      name: 'Grace Hopper',
      birthDate: '1906-12-09',
      flags: { hypercapnic: true },
    })
    expect(created.status).toBe(201)
    expect(created.body).toEqual({
      id: 'p9',
      name: 'Grace Hopper',
      birthDate: '1906-12-09',
      monitoring: true,
      flags: { hypercapnic: true },
    })
    expect((await call(h.httpUrl, admin, 'POST', '/api/patients', { id: 'p9', name: 'x' })).status).toBe(409)
    const bad = await call(h.httpUrl, admin, 'POST', '/api/patients', { id: 'p 9', name: 'x', extra: 1 })
    expect(bad.status).toBe(400)
    expect(bad.body.error.code).toBe('VW_ERR_VALIDATION')

    const paused = await call(h.httpUrl, admin, 'PATCH', '/api/patients/p9', { monitoring: false })
    expect(paused.body.monitoring).toBe(false)
    expect((await call(h.httpUrl, admin, 'PATCH', '/api/patients/nope', { monitoring: false })).status).toBe(
      404,
    )

    const user = await call(h.httpUrl, admin, 'POST', '/api/users', {
      email: 'n@example.org',
      role: 'clinician',
      patients: [],
    })
    expect(user.status).toBe(201)
    expect(user.headers.get('cache-control')).toBe('no-store')
    expect(user.body).toEqual({ email: 'n@example.org', password: expect.any(String) })
    const { users } = (await call(h.httpUrl, admin, 'GET', '/api/users')).body
    const n = users.find((u: any) => u.email === 'n@example.org')
    expect(n).toMatchObject({ role: 'clinician', patients: [], mustChangePassword: true })
    expect(JSON.stringify(users)).not.toMatch(/scrypt|passwordHash/)

    // The new user changes the one-time password, then sees exactly the care team the admin assigns.
    const login = await call(h.httpUrl, undefined, 'POST', '/api/session', {
      email: 'n@example.org',
      password: user.body.password,
    })
    const first = {
      name: 'n',
      cookie: login.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; '),
    }
    const changed = await call(h.httpUrl, first, 'POST', '/api/session/password', {
      current: user.body.password,
      next: 'correct horse battery',
    })
    const me = {
      name: 'n',
      cookie: changed.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; '),
    }
    expect((await call(h.httpUrl, me, 'GET', '/api/patients')).body.patients).toEqual([])
    const team = await call(h.httpUrl, admin, 'PUT', `/api/users/${n.id}/patients`, { patients: ['p9'] })
    expect(team.body.patients).toEqual(['p9'])
    expect((await call(h.httpUrl, me, 'GET', '/api/patients')).body.patients.map((p: any) => p.id)).toEqual([
      'p9',
    ])
    expect(
      (await call(h.httpUrl, admin, 'PUT', `/api/users/${n.id}/patients`, { patients: ['ghost'] })).status,
    ).toBe(404)
  })
})

describe('request bodies', () => {
  it('refuses a value of the wrong type instead of converting it (null used to pause monitoring)', async () => {
    for (const body of [
      { monitoring: null },
      { monitoring: 'false' },
      { monitoring: 0 },
      { flags: { onOxygen: null } },
    ]) {
      const r = await call(h.httpUrl, admin, 'PATCH', '/api/patients/p10', body)
      expect(r.status, JSON.stringify(body)).toBe(400)
      expect(r.body.error.code).toBe('VW_ERR_VALIDATION')
    }
    const p10 = (await call(h.httpUrl, admin, 'GET', '/api/patients/p10')).body
    expect([p10.monitoring, p10.flags?.onOxygen]).toEqual([true, undefined])
    expect((await call(h.httpUrl, admin, 'POST', '/api/devices', { id: 123, patientId: 'p10' })).status).toBe(
      400,
    )
    const born = await call(h.httpUrl, admin, 'POST', '/api/patients', {
      id: 'p12',
      name: 'x',
      birthDate: '2990-01-01',
    })
    expect([born.status, born.body.error.message]).toEqual([400, 'birth date 2990-01-01 is in the future'])
    // A query string is text, and is still read as numbers where the route wants them.
    expect((await call(h.httpUrl, admin, 'GET', '/api/alerts?limit=5')).status).toBe(200)
  })

  it('acknowledges and resolves an alert with no body at all (the note is optional)', async () => {
    await insertAlerts(alertFixture({ id: 'nobody-1', patientId: 'p10', rule: 'hr-high', severity: 'high' }))
    const post = (verb: string) =>
      fetch(`${h.httpUrl}/api/alerts/nobody-1/${verb}`, {
        method: 'POST',
        headers: { cookie: admin.cookie! },
      })
    const acked = await post('ack')
    expect(acked.status).toBe(200)
    expect((await acked.json()).status).toBe('acknowledged')
    expect((await post('resolve')).status).toBe(200)
  })
})

describe('errors in the documented shape', () => {
  it('answers a too large body 413, a non-JSON body 415, an over-long id 400, and snoozing a critical alert 409', async () => {
    const big = await fetch(`${h.httpUrl}/api/patients`, {
      method: 'POST',
      headers: { cookie: admin.cookie!, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'p11', name: 'x'.repeat(300_000) }),
    })
    expect([big.status, (await big.json()).error.code]).toEqual([413, 'VW_ERR_PAYLOAD_TOO_LARGE'])
    const form = await fetch(`${h.httpUrl}/api/patients`, {
      method: 'POST',
      headers: { cookie: admin.cookie!, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'id=p11&name=x',
    })
    expect([form.status, (await form.json()).error.code]).toEqual([415, 'VW_ERR_UNSUPPORTED_MEDIA_TYPE'])
    const text = await fetch(`${h.httpUrl}/api/patients`, {
      method: 'POST',
      headers: { cookie: admin.cookie!, 'content-type': 'text/plain' },
      body: '{"id":"p11","name":"x"}',
    })
    expect([text.status, (await text.json()).error.code]).toEqual([415, 'VW_ERR_UNSUPPORTED_MEDIA_TYPE'])
    for (const [method, path] of [
      ['DELETE', `/api/devices/${'d'.repeat(150)}`],
      ['POST', `/api/alerts/${'a'.repeat(150)}/ack`],
      ['DELETE', `/api/tokens/${'t'.repeat(150)}`],
    ]) {
      const r = await call(h.httpUrl, admin, method, path, method === 'POST' ? {} : undefined)
      expect([r.status, r.body.error.code], path).toEqual([400, 'VW_ERR_VALIDATION'])
    }
    await insertAlerts(
      alertFixture({ id: 'crit-1', patientId: 'p10', rule: 'spo2-low', severity: 'critical' }),
    )
    const snooze = await call(h.httpUrl, admin, 'POST', '/api/alerts/crit-1/snooze', { minutes: 10 })
    expect([snooze.status, snooze.body.error.code]).toEqual([409, 'VW_ERR_ALERT_SNOOZE_CRITICAL'])
  })
})

describe('a change from another origin', () => {
  it("is refused and audited: a page on another port cannot act in a signed-in user's name", async () => {
    await insertAlerts(alertFixture({ id: 'csrf-1', patientId: 'p10', rule: 'hr-high', severity: 'high' }))
    const resolve = (origin?: string) =>
      fetch(`${h.httpUrl}/api/alerts/csrf-1/resolve`, {
        method: 'POST',
        headers: { cookie: admin.cookie!, ...(origin ? { origin } : {}) },
      })
    // What a page on http://127.0.0.1:9999 makes the browser send: the session cookie, no body.
    const foreign = await resolve('http://127.0.0.1:9999')
    expect(foreign.status).toBe(403)
    expect((await foreign.json()).error).toEqual({
      code: 'VW_ERR_FORBIDDEN',
      message: 'a change from another origin (http://127.0.0.1:9999) is refused',
    })
    const alert = await call(h.httpUrl, admin, 'GET', '/api/alerts?status=open')
    expect(alert.body.alerts.map((a: { id: string }) => a.id)).toContain('csrf-1')
    const audit = await call(h.httpUrl, admin, 'GET', '/api/audit?actor=anonymous&limit=50')
    expect(audit.body.entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'access:POST /api/alerts/:id/resolve',
          detail: expect.objectContaining({ reason: 'origin', origin: 'http://127.0.0.1:9999' }),
        }),
      ]),
    )
    // The dashboard's own page, and a program that sends no Origin (curl, an integration), may.
    expect((await resolve(new URL(h.httpUrl).origin)).status).toBe(200)
    await insertAlerts(alertFixture({ id: 'csrf-2', patientId: 'p10', rule: 'rr-high', severity: 'high' }))
    const plain = await fetch(`${h.httpUrl}/api/alerts/csrf-2/ack`, {
      method: 'POST',
      headers: { cookie: admin.cookie! },
    })
    expect(plain.status).toBe(200)
    expect((await call(h.httpUrl, admin, 'POST', '/api/alerts/csrf-2/resolve')).status).toBe(200)
  })
})

describe('a method the path does not take', () => {
  it('is a 405 with an Allow header (REST and FHIR), while an unknown path stays a 404', async () => {
    const put = await call(h.httpUrl, admin, 'PUT', '/api/patients/p10', { name: 'x' })
    expect(put.status).toBe(405)
    expect(put.headers.get('allow')).toBe('GET, HEAD, PATCH')
    expect(put.body.error).toEqual({
      code: 'VW_ERR_METHOD_NOT_ALLOWED',
      message: 'PUT is not allowed on /api/patients/p10; it takes GET, HEAD, PATCH',
    })
    const del = await call(h.httpUrl, admin, 'DELETE', '/api/alerts')
    expect([del.status, del.headers.get('allow')]).toEqual([405, 'GET, HEAD'])
    const fhir = await fetch(`${h.httpUrl}/fhir/r4/Observation?patient=p10`, {
      method: 'DELETE',
      headers: { cookie: admin.cookie! },
    })
    expect([fhir.status, fhir.headers.get('allow')]).toEqual([405, 'GET, HEAD'])
    expect(await fhir.json()).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [
        {
          code: 'not-supported',
          diagnostics: 'DELETE is not allowed on /fhir/r4/Observation; it takes GET, HEAD',
        },
      ],
    })
    const missing = await call(h.httpUrl, admin, 'PUT', '/api/nothing-here', {})
    expect([missing.status, missing.body.error.code]).toEqual([404, 'VW_ERR_NOT_FOUND'])
  })
})

describe('alert actions that change nothing', () => {
  it('of five resolving at once, one resolves (200) and four are told it was resolved (409); the audit says one did', async () => {
    await insertAlerts(alertFixture({ id: 'race-1', patientId: 'p10', rule: 'rr-high', severity: 'high' }))
    const results = await Promise.all(
      Array.from({ length: 5 }, () =>
        call(h.httpUrl, admin, 'POST', '/api/alerts/race-1/resolve', { note: 'seen' }),
      ),
    )
    expect(results.map((r) => r.status).sort()).toEqual([200, 409, 409, 409, 409])
    const refused = results.find((r) => r.status === 409)!
    expect(refused.body.error).toMatchObject({
      code: 'VW_ERR_ALERT_RESOLVED',
      message: expect.stringMatching(/already resolved \(by admin@example.org at .*\); nothing changed/),
    })
    for (const [verb, body] of [
      ['ack', {}],
      ['snooze', { minutes: 10 }],
    ] as const)
      expect((await call(h.httpUrl, admin, 'POST', `/api/alerts/race-1/${verb}`, body)).status, verb).toBe(
        409,
      )
    const audit = (await call(h.httpUrl, admin, 'GET', '/api/audit?action=alert.resolve&limit=50')).body
      .entries
    expect(audit.filter((e: any) => e.target === 'race-1' && e.outcome === 'ok')).toHaveLength(1)
  })
})

describe('alert change feed', () => {
  it('pages alerts changed since a time, oldest change first, each once, and picks up a later change', async () => {
    await call(h.httpUrl, admin, 'POST', '/api/patients', { id: 'p13', name: 'Dorothy Vaughan' })
    const t0 = Date.now() - 3_600_000
    // Five alerts, two of them changed in the same millisecond (ties are broken by id).
    const at = [0, 1000, 1000, 2000, 3000]
    await insertAlerts(
      ...at.map((ms, i) =>
        alertFixture(
          // The auto-resolve clock is internal state: it must not leave the server.
          {
            id: `feed-${i}`,
            patientId: 'p13',
            rule: `r${i}`,
            severity: 'low',
            recoveringSince: new Date(t0).toISOString(),
          },
          new Date(t0 + ms).toISOString(),
        ),
      ),
    )
    const since = new Date(t0 + 500).toISOString()
    const seen: string[] = []
    let page = await call(h.httpUrl, admin, 'GET', `/api/alerts?patient=p13&changedSince=${since}&limit=2`)
    // Every page has a cursor, the last (empty) one too: a poller keeps it and asks again later.
    for (;;) {
      expect(page.status).toBe(200)
      expect(page.body.next).toEqual(expect.any(String))
      seen.push(...page.body.alerts.map((a: any) => a.id))
      if (page.body.alerts.length === 0) break
      page = await call(h.httpUrl, admin, 'GET', `/api/alerts?patient=p13&limit=2&after=${page.body.next}`)
    }
    expect(seen).toEqual(['feed-1', 'feed-2', 'feed-3', 'feed-4'])
    const all = (await call(h.httpUrl, admin, 'GET', '/api/alerts?patient=p13')).body.alerts
    expect(all.filter((a: any) => 'recoveringSince' in a)).toEqual([])
    const cursor = page.body.next
    // Nothing changed since: an empty page, and the same position again.
    const still = await call(h.httpUrl, admin, 'GET', `/api/alerts?patient=p13&limit=2&after=${cursor}`)
    expect([still.body.alerts, still.body.next]).toEqual([[], cursor])
    // A change after the last page: it comes next, and only it.
    await call(h.httpUrl, admin, 'POST', '/api/alerts/feed-0/ack', {})
    // The user's own snooze shows wherever the alert does: the list, the patient, an action's answer.
    await call(h.httpUrl, admin, 'POST', '/api/alerts/feed-1/snooze', { minutes: 30 })
    const detail = (await call(h.httpUrl, admin, 'GET', '/api/patients/p13')).body
    expect(detail.alerts.find((a: any) => a.id === 'feed-1').snoozedUntil).toEqual(expect.any(String))
    const acked = (await call(h.httpUrl, admin, 'POST', '/api/alerts/feed-1/ack', {})).body
    expect(acked.snoozedUntil).toEqual(expect.any(String))
    const later = await call(h.httpUrl, admin, 'GET', `/api/alerts?patient=p13&limit=2&after=${cursor}`)
    expect(later.body.alerts.map((a: any) => [a.id, a.status])).toEqual([
      ['feed-0', 'acknowledged'],
      ['feed-1', 'acknowledged'],
    ])
    const bad = await call(h.httpUrl, admin, 'GET', '/api/alerts?after=garbage')
    expect([bad.status, bad.body.error.code]).toEqual([400, 'VW_ERR_VALIDATION'])
    expect((await call(h.httpUrl, admin, 'GET', '/api/alerts?changedSince=yesterday')).status).toBe(400)
  })
})

describe('API documentation', () => {
  it('serves the OpenAPI document and Swagger UI under a CSP of its own', async () => {
    const doc = await call(h.httpUrl, undefined, 'GET', '/docs/json')
    expect(doc.body.openapi).toMatch(/^3\./)
    for (const p of ['/api/patients', '/api/users', '/api/tokens', '/api/audit', '/api/alerts/{id}/snooze'])
      expect(Object.keys(doc.body.paths)).toContain(p)
    expect(doc.body.paths['/api/patients'].post.requestBody).toBeDefined()
    // Readiness documents its 503 (down) body as well as its 200.
    const readyz = doc.body.paths['/readyz'].get
    for (const status of ['200', '503'])
      expect(readyz.responses[status].content['application/json'].schema.properties.status.enum).toEqual([
        'ready',
        'degraded',
        'down',
      ])
    expect(readyz.security).toEqual([])
    const ui = await fetch(`${h.httpUrl}/docs/static/index.html`)
    expect(ui.status).toBe(200)
    const csp = ui.headers.get('content-security-policy')!
    expect(csp).toMatch(/script-src 'self'/)
    expect(csp).not.toMatch(/unsafe-eval|https:/)
    expect(csp).toMatch(/frame-ancestors 'none'/)
    // Everywhere else the strict policy stays.
    const api = await fetch(`${h.httpUrl}/healthz`)
    expect(api.headers.get('content-security-policy')).toMatch(/style-src 'self';/)
  })
})

// Its own server: the refused sign-ins below are anonymous denials, which the audit summarises per address
// and minute, and would fold the other tests' own denials into a summary.
describe('disabling users and resetting passwords', () => {
  let h2: Harness
  let admin2: Caller
  beforeAll(async () => {
    h2 = await startHarness({ only: ['dashboard'] })
    admin2 = {
      name: 'admin',
      cookie: await h2.login('admin@example.org', await h2.addUser('admin@example.org', 'admin')),
    }
  })
  afterAll(async () => h2.close())

  it('disables and enables a user, and resets a password: sessions, tokens and sockets stop at once', async () => {
    const pw = await h2.addUser('leaver@example.org', 'coordinator')
    const cookieOf = (r: Response) =>
      r.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ')
    const signIn = (password: string) =>
      fetch(`${h2.httpUrl}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'leaver@example.org', password }),
      })
    const session = { name: 'leaver', cookie: cookieOf(await signIn(pw)) }
    const token = (
      await call(h2.httpUrl, admin2, 'POST', '/api/tokens', { email: 'leaver@example.org', label: 'x' })
    ).body.token
    const machine = { name: 'machine', token }
    const { users } = (await call(h2.httpUrl, admin2, 'GET', '/api/users')).body
    const id = users.find((u: any) => u.email === 'leaver@example.org').id
    expect((await call(h2.httpUrl, session, 'GET', '/api/session')).status).toBe(200)
    const ws = new WebSocket(`${h2.httpUrl.replace(/^http/, 'ws')}/ws`, {
      headers: { cookie: session.cookie },
    })
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))

    // There was no way to do this but editing SQLite by hand.
    const off = await call(h2.httpUrl, admin2, 'POST', `/api/users/${id}/disable`)
    expect([off.status, off.body.disabled]).toEqual([200, true])
    expect((await call(h2.httpUrl, session, 'GET', '/api/patients')).status).toBe(401)
    expect((await call(h2.httpUrl, machine, 'GET', '/api/patients')).status).toBe(401)
    expect((await signIn(pw)).status).toBe(401)
    expect(await closed).toBe(1008)
    const on = await call(h2.httpUrl, admin2, 'POST', `/api/users/${id}/enable`)
    expect([on.status, on.body.disabled]).toEqual([200, false])
    expect((await signIn(pw)).status).toBe(201)

    // A reset: a new one-time password, the old one and its sessions gone, a new password first.
    const reset = await call(h2.httpUrl, admin2, 'POST', `/api/users/${id}/password`)
    expect(reset.status).toBe(201)
    expect(reset.headers.get('cache-control')).toBe('no-store')
    expect(reset.body).toEqual({ email: 'leaver@example.org', password: expect.any(String) })
    expect((await signIn(pw)).status).toBe(401)
    const fresh = await signIn(reset.body.password)
    expect((await fresh.json()).mustChangePassword).toBe(true)

    // Not one's own account (an admin locking themselves out), nor an unknown user.
    const me = users.find((u: any) => u.email === 'admin@example.org').id
    expect((await call(h2.httpUrl, admin2, 'POST', `/api/users/${me}/disable`)).status).toBe(409)
    expect((await call(h2.httpUrl, admin2, 'POST', `/api/users/${me}/password`)).status).toBe(409)
    expect((await call(h2.httpUrl, admin2, 'POST', '/api/users/99999/disable')).status).toBe(404)
    expect((await call(h2.httpUrl, session, 'POST', `/api/users/${id}/enable`)).status).toBe(401)
    const audit = (await call(h2.httpUrl, admin2, 'GET', '/api/audit?limit=50')).body.entries
    for (const action of ['user.disable', 'user.enable', 'user.password-reset'])
      expect(
        audit.some((e: any) => e.action === action && e.target === 'leaver@example.org'),
        action,
      ).toBe(true)
  })
})
