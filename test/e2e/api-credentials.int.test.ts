import fs from 'node:fs'
import { afterEach, describe, expect, it } from 'vitest'
import { call, cookieOf } from '../helpers/api-client.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'

// The one-time password (must change before anything touches patient data) and API tokens for machines.

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

describe('one-time password', () => {
  it('allows nothing but reading the session, changing the password and logging out until it is changed', async () => {
    h = await startHarness({ only: ['dashboard'] })
    await h.enrollPatient('p1', { name: 'Ada Lovelace' })
    const otp = await h.addUser('new@example.org', 'coordinator', ['p1'], { mustChangePassword: true })
    const res = await call(h.httpUrl, undefined, 'POST', '/api/session', {
      email: 'new@example.org',
      password: otp,
    })
    expect(res.body.mustChangePassword).toBe(true)
    const me = { name: 'new', cookie: cookieOf(res) }
    expect((await call(h.httpUrl, me, 'GET', '/api/session')).status).toBe(200)
    for (const path of ['/api/patients', '/api/patients/p1', '/api/alerts', '/api/devices']) {
      const r = await call(h.httpUrl, me, 'GET', path)
      expect(r.status, path).toBe(403)
      expect(r.body.error.code).toBe('VW_ERR_PASSWORD_CHANGE_REQUIRED')
      expect(r.text).not.toContain('Ada')
    }
    const fhir = await call(h.httpUrl, me, 'GET', '/fhir/r4/Patient/p1')
    expect(fhir.status).toBe(403)
    expect(fhir.body.resourceType).toBe('OperationOutcome')
    const ws = await fetch(`${h.httpUrl}/ws`, { headers: { cookie: me.cookie } })
    expect(ws.status).toBe(403)

    const wrong = await call(h.httpUrl, me, 'POST', '/api/session/password', {
      current: 'nope',
      next: 'a-long-new-passphrase',
    })
    expect(wrong.body.error.code).toBe('VW_ERR_AUTH_INVALID')
    const weak = await call(h.httpUrl, me, 'POST', '/api/session/password', { current: otp, next: 'short' })
    expect(weak.body.error.code).toBe('VW_ERR_PASSWORD_WEAK')
    const changed = await call(h.httpUrl, me, 'POST', '/api/session/password', {
      current: otp,
      next: 'a-long-new-passphrase',
    })
    expect(changed.status).toBe(204)
    const after = { name: 'new', cookie: cookieOf(changed) } // a new session id after the change
    expect(after.cookie).not.toBe(me.cookie)
    const list = await call(h.httpUrl, after, 'GET', '/api/patients')
    expect(list.status).toBe(200)
    expect(list.body.patients.map((p: any) => p.name)).toEqual(['Ada Lovelace'])
    const old = await call(h.httpUrl, undefined, 'POST', '/api/session', {
      email: 'new@example.org',
      password: otp,
    })
    expect(old.status).toBe(401)
  })

  it('ends every other session of the user when the password changes (one opened with a leaked OTP too)', async () => {
    h = await startHarness({ only: ['dashboard'] })
    await h.enrollPatient('p1', { name: 'Ada Lovelace' })
    const otp = await h.addUser('new@example.org', 'coordinator', ['p1'], { mustChangePassword: true })
    const open = async (password: string) => {
      const r = await call(h!.httpUrl, undefined, 'POST', '/api/session', {
        email: 'new@example.org',
        password,
      })
      expect(r.status).toBe(201)
      return { name: 'new', cookie: cookieOf(r) }
    }
    // Someone who intercepted the one-time password logs in first; then the user does and changes it.
    const intruder = await open(otp)
    const user = await open(otp)
    const next = 'a-long-new-passphrase'
    const changed = await call(h.httpUrl, user, 'POST', '/api/session/password', { current: otp, next })
    expect(changed.status).toBe(204)
    // Before, the intruder's session was upgraded with the user's and read the patients.
    for (const path of ['/api/session', '/api/patients']) {
      const r = await call(h.httpUrl, intruder, 'GET', path)
      expect(r.status, path).toBe(401)
      expect(r.text).not.toContain('Ada')
    }
    // The same between two ordinary sessions: a change in one ends the other, not itself.
    const mine = { name: 'new', cookie: cookieOf(changed) }
    const other = await open(next)
    const again = await call(h.httpUrl, mine, 'POST', '/api/session/password', {
      current: next,
      next: 'another-long-passphrase',
    })
    expect(again.status).toBe(204)
    expect((await call(h.httpUrl, other, 'GET', '/api/patients')).status).toBe(401)
    expect(
      (await call(h.httpUrl, { name: 'new', cookie: cookieOf(again) }, 'GET', '/api/patients')).status,
    ).toBe(200)
  })
})

describe('API tokens', () => {
  it('are issued by admins only, shown once, hashed at rest, scoped like their user, and revocable', async () => {
    h = await startHarness({ only: ['dashboard'] })
    await h.enrollPatient('p1')
    await h.enrollPatient('p2')
    const adminPw = await h.addUser('admin@example.org', 'admin')
    const coordPw = await h.addUser('c@example.org', 'coordinator', ['p1'])
    const admin = { name: 'admin', cookie: await h.login('admin@example.org', adminPw) }
    const coord = { name: 'c', cookie: await h.login('c@example.org', coordPw) }

    const refused = await call(h.httpUrl, coord, 'POST', '/api/tokens', {
      email: 'c@example.org',
      label: 'x',
    })
    expect(refused.status).toBe(403)
    const created = await call(h.httpUrl, admin, 'POST', '/api/tokens', {
      email: 'c@example.org',
      label: 'EHR sync',
    })
    expect(created.status).toBe(201)
    expect(created.headers.get('cache-control')).toBe('no-store')
    const { id, token } = created.body
    expect(token).toMatch(/^vwt_/)

    const machine = { name: 'machine', token }
    const seen = await call(h.httpUrl, machine, 'GET', '/api/patients')
    expect(seen.body.patients.map((p: any) => p.id)).toEqual(['p1'])
    expect((await call(h.httpUrl, machine, 'GET', '/fhir/r4/Patient/p2')).status).toBe(404)
    expect((await call(h.httpUrl, machine, 'GET', '/api/tokens')).status).toBe(403)

    const listed = await call(h.httpUrl, admin, 'GET', '/api/tokens')
    expect(listed.body.tokens).toEqual([
      expect.objectContaining({ id, email: 'c@example.org', label: 'EHR sync' }),
    ])
    // The secret is base64url, so it may itself contain '_': cut at the known prefix, not split.
    const secret = token.slice(`vwt_${id}_`.length)
    expect(secret).toHaveLength(43)
    expect(listed.text).not.toContain(secret)
    // The secret part of the token is nowhere in the database files, only its SHA-256.
    for (const f of fs.readdirSync(h.dataDir).filter((n) => n.startsWith('vitalwire.db'))) {
      expect(fs.readFileSync(`${h.dataDir}/${f}`).includes(secret), f).toBe(false)
    }

    expect((await call(h.httpUrl, admin, 'DELETE', `/api/tokens/${id}`)).status).toBe(204)
    expect((await call(h.httpUrl, machine, 'GET', '/api/patients')).status).toBe(401)
    expect((await call(h.httpUrl, admin, 'DELETE', `/api/tokens/${id}`)).status).toBe(404)
  })
})
