import { DatabaseSync } from 'node:sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { call, cookieOf, eventually } from '../helpers/api-client.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'

// Person and machine authentication against a real server: cookies, lockout, rate limit, idle logoff,
// logout, the one-time password, API tokens.

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

const login = (base: string, email: string, password: string) =>
  call(base, undefined, 'POST', '/api/session', { email, password })

async function auditActions(hh: Harness, actor: string): Promise<string[]> {
  const db = new DatabaseSync(`${hh.dataDir}/vitalwire.db`)
  try {
    return (
      db.prepare('SELECT action, outcome FROM audit WHERE actor = ? ORDER BY seq').all(actor) as any[]
    ).map((r) => `${r.action}:${r.outcome}`)
  } finally {
    db.close()
  }
}

describe('authentication', () => {
  it('sets an HttpOnly SameSite=Strict session cookie, audits logins, and logs out', async () => {
    h = await startHarness({ only: ['dashboard'] })
    await h.enrollPatient('p1')
    const password = await h.addUser('c@example.org', 'coordinator', ['p1'])
    expect((await login(h.httpUrl, 'c@example.org', 'wrong')).body.error.code).toBe('VW_ERR_AUTH_INVALID')
    const ok = await login(h.httpUrl, 'c@example.org', password)
    expect(ok.status).toBe(201)
    const raw = ok.headers.getSetCookie().join('\n')
    expect(raw).toMatch(/vw_session=/)
    expect(raw).toMatch(/HttpOnly/i)
    expect(raw).toMatch(/SameSite=Strict/i)
    expect(raw).not.toMatch(/Secure/i) // plain HTTP on loopback; the TLS test checks Secure
    const me = { name: 'c', cookie: cookieOf(ok) }
    expect((await call(h.httpUrl, me, 'GET', '/api/patients')).status).toBe(200)
    expect((await call(h.httpUrl, me, 'DELETE', '/api/session')).status).toBe(204)
    const after = await call(h.httpUrl, me, 'GET', '/api/patients')
    expect(after.status).toBe(401)
    expect(after.body.error.code).toBe('VW_ERR_AUTH_REQUIRED')
    await eventually(async () => (await auditActions(h!, 'c@example.org')).includes('logout:ok'))
    expect(await auditActions(h, 'c@example.org')).toEqual(
      expect.arrayContaining(['login:failed', 'login:ok', 'patients.list:ok', 'logout:ok']),
    )
  })

  it('locks an account after 5 failed logins, even with the right password afterwards', async () => {
    h = await startHarness({ only: ['dashboard'] })
    const password = await h.addUser('a@example.org', 'admin')
    for (let i = 0; i < 5; i++) expect((await login(h.httpUrl, 'a@example.org', `bad-${i}`)).status).toBe(401)
    const locked = await login(h.httpUrl, 'a@example.org', password)
    expect(locked.status).toBe(429)
    expect(locked.body.error.code).toBe('VW_ERR_AUTH_LOCKED')
  })

  it('answers an email that is no account exactly like one that is, lock included', async () => {
    h = await startHarness({ only: ['dashboard'] })
    await h.addUser('a@example.org', 'admin')
    const answers = async (email: string) => {
      const out: string[] = []
      for (let i = 0; i < 6; i++) {
        const r = await login(h!.httpUrl, email, `bad-${i}`)
        out.push(`${r.status} ${r.body.error.code}`)
      }
      return out
    }
    const known = await answers('a@example.org')
    expect(known.slice(4)).toEqual(['401 VW_ERR_AUTH_INVALID', '429 VW_ERR_AUTH_LOCKED'])
    // A fresh server, so the per-address rate limit (10 a minute) does not answer instead.
    await h.close()
    h = await startHarness({ only: ['dashboard'] })
    expect(await answers('nobody@example.org')).toEqual(known)
  })

  it('rate-limits login attempts per address across accounts', async () => {
    h = await startHarness({ only: ['dashboard'] })
    const codes: string[] = []
    for (let i = 0; i < 12; i++)
      codes.push((await login(h.httpUrl, `nobody${i}@example.org`, 'x')).body.error.code)
    expect(codes.slice(0, 10).every((c) => c === 'VW_ERR_AUTH_INVALID')).toBe(true)
    expect(codes.slice(10)).toEqual(['VW_ERR_RATE_LIMITED', 'VW_ERR_RATE_LIMITED'])
  })

  it('logs a session off after the idle time, activity extends it, and its WebSocket is closed', async () => {
    // 0.04 min = 2.4 s idle time: margins of seconds, so a loaded CI machine cannot make it flaky.
    h = await startHarness({ only: ['dashboard'], env: { VITALWIRE_SESSION_IDLE_MIN: '0.04' } })
    await h.enrollPatient('p1')
    const password = await h.addUser('c@example.org', 'coordinator', ['p1'])
    const me = { name: 'c', cookie: await h.login('c@example.org', password) }
    const ws = new WebSocket(`${h.httpUrl.replace(/^http/, 'ws')}/ws`, { headers: { cookie: me.cookie } })
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    // Activity every 800 ms keeps the 2.4 s session alive well past its first deadline.
    const started = Date.now()
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 800))
      expect((await call(h.httpUrl, me, 'GET', '/api/session')).status).toBe(200)
    }
    expect(Date.now() - started).toBeGreaterThan(3600)
    await new Promise((r) => setTimeout(r, 3600)) // idle longer than 2.4 s
    expect((await call(h.httpUrl, me, 'GET', '/api/patients')).status).toBe(401)
    expect(await closed).toBe(4401)
  })

  it('closes its WebSockets with 1001 (going away) when the server shuts down, as documented', async () => {
    h = await startHarness({ only: ['dashboard'] })
    const password = await h.addUser('c@example.org', 'coordinator')
    const cookie = await h.login('c@example.org', password)
    const ws = new WebSocket(`${h.httpUrl.replace(/^http/, 'ws')}/ws`, { headers: { cookie } })
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))
    await h.close()
    // It was 1005 (no code): the plugin closed the sockets before the server could say why.
    expect(await closed).toBe(1001)
  })

  it("opens the WebSocket only for the dashboard's own origin", async () => {
    h = await startHarness({ only: ['dashboard'] })
    await h.enrollPatient('p1')
    const password = await h.addUser('c@example.org', 'coordinator', ['p1'])
    const cookie = await h.login('c@example.org', password)
    const url = `${h.httpUrl.replace(/^http/, 'ws')}/ws`
    const open = (origin: string) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(url, { headers: { cookie }, origin })
        ws.once('open', () => {
          ws.close()
          resolve('open')
        })
        ws.once('unexpected-response', (_req, res) => resolve(`refused ${res.statusCode}`))
        ws.once('error', (e) => resolve(`error ${e.message}`))
      })
    // A page on another port of the same host is "same site" for the SameSite=Strict cookie.
    const other = new URL(h.httpUrl)
    other.port = String(Number(other.port) + 1)
    expect(await open(other.origin)).toBe('refused 403')
    expect(await open('http://evil.example')).toBe('refused 403')
    expect(await open(new URL(h.httpUrl).origin)).toBe('open')
    await eventually(async () => (await auditActions(h!, 'c@example.org')).includes('ws.connect:denied'))
  })

  it('marks every API and FHIR answer no-store, and answers a malformed FHIR body with 400', async () => {
    h = await startHarness({ only: ['dashboard'] })
    await h.enrollPatient('p1')
    const password = await h.addUser('c@example.org', 'coordinator', ['p1'])
    const me = { name: 'c', cookie: await h.login('c@example.org', password) }
    for (const path of [
      '/api/patients',
      '/api/patients/p1',
      '/api/alerts',
      '/fhir/r4/Patient/p1',
      '/fhir/r4/Observation?patient=p1',
    ]) {
      const r = await call(h.httpUrl, me, 'GET', path)
      expect(r.status, path).toBe(200)
      expect(r.headers.get('cache-control'), path).toBe('no-store')
    }
    const bad = await fetch(`${h.httpUrl}/fhir/r4/metadata`, {
      method: 'POST',
      headers: { 'content-type': 'application/fhir+json' },
      body: '{bad',
    })
    expect(bad.status).toBe(400)
  })
})
