import fs from 'node:fs'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
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
    // Long enough is not enough: a common password, or one made of the user's own email, is refused
    // with why (dashboard/password-policy.ts).
    for (const [guessable, why] of [
      ['Password1234', /too easy to guess: This is similar to a commonly used password/],
      ['new@example.org1', /too easy to guess: There should not be any personal/],
      ['qwertyuiop123', /too easy to guess/],
      ['aaaaaaaaaaaaaaaa', /too easy to guess: Repeated characters/],
    ] as const) {
      const r = await call(h.httpUrl, me, 'POST', '/api/session/password', { current: otp, next: guessable })
      expect(r.status, guessable).toBe(400)
      expect(r.body.error.code, guessable).toBe('VW_ERR_PASSWORD_WEAK')
      expect(r.body.error.message, guessable).toMatch(why)
    }
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
    const { id, token, expiresAt } = created.body
    expect(token).toMatch(/^vwt_/)
    // 90 days unless the admin chose otherwise.
    expect(Math.round((Date.parse(expiresAt) - Date.now()) / 86_400_000)).toBe(90)

    const machine = { name: 'machine', token }
    const seen = await call(h.httpUrl, machine, 'GET', '/api/patients')
    expect(seen.body.patients.map((p: any) => p.id)).toEqual(['p1'])
    expect((await call(h.httpUrl, machine, 'GET', '/fhir/r4/Patient/p2')).status).toBe(404)
    expect((await call(h.httpUrl, machine, 'GET', '/api/tokens')).status).toBe(403)

    const listed = await call(h.httpUrl, admin, 'GET', '/api/tokens')
    expect(listed.body.tokens).toEqual([
      expect.objectContaining({ id, email: 'c@example.org', label: 'EHR sync', expiresAt }),
    ])
    // The secret is base64url, so it may itself contain '_': cut at the known prefix, not split.
    const secret = token.slice(`vwt_${id}_`.length)
    expect(secret).toHaveLength(43)
    expect(listed.text).not.toContain(secret)
    // The secret part of the token is nowhere in the database files, only its SHA-256.
    for (const f of fs.readdirSync(h.dataDir).filter((n) => n.startsWith('vitalwire.db'))) {
      expect(fs.readFileSync(`${h.dataDir}/${f}`).includes(secret), f).toBe(false)
    }

    // Its WebSocket and the coordinator's own close at once when the token is revoked and the session
    // logged out here, not at the next periodic re-check (up to 15 s later, meanwhile still pushed data).
    const wsUrl = `${h.httpUrl.replace(/^http/, 'ws')}/ws`
    const socket = async (headers: Record<string, string>) => {
      const ws = new WebSocket(wsUrl, { headers })
      await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
      return {
        closed: () =>
          new Promise<number | 'still open'>((resolve) => {
            ws.once('close', (code) => resolve(code))
            // Far below the 15 s re-check, far above a close on the spot.
            setTimeout(() => resolve('still open'), 5000).unref()
          }),
      }
    }
    const tokenSocket = await socket({ authorization: `Bearer ${token}` })
    const sessionSocket = await socket({ cookie: coord.cookie! })
    const tokenClosed = tokenSocket.closed()
    expect((await call(h.httpUrl, admin, 'DELETE', `/api/tokens/${id}`)).status).toBe(204)
    expect(await tokenClosed).toBe(4401)
    expect((await call(h.httpUrl, machine, 'GET', '/api/patients')).status).toBe(401)
    expect((await call(h.httpUrl, admin, 'DELETE', `/api/tokens/${id}`)).status).toBe(404)
    const sessionClosed = sessionSocket.closed()
    expect((await call(h.httpUrl, coord, 'DELETE', '/api/session')).status).toBe(204)
    expect(await sessionClosed).toBe(4401)
  })
})

describe('API token expiry', () => {
  it('lasts what the admin chose (1 to 365 days), then is refused saying why, and its socket closes', async () => {
    // A short idle time only so that open sockets are rechecked every 3 s.
    h = await startHarness({ only: ['dashboard'], env: { VITALWIRE_SESSION_IDLE_MIN: '0.1' } })
    await h.enrollPatient('p1')
    const admin = {
      name: 'admin',
      cookie: await h.login('admin@example.org', await h.addUser('admin@example.org', 'admin')),
    }
    await h.addUser('c@example.org', 'coordinator', ['p1'])
    const issue = (body: Record<string, unknown>) =>
      call(h!.httpUrl, admin, 'POST', '/api/tokens', { email: 'c@example.org', label: 'sync', ...body })
    for (const bad of [0, 366, 1.5, 'soon']) {
      const r = await issue({ expiresInDays: bad })
      expect(r.status, String(bad)).toBe(400)
      expect(r.body.error.message, String(bad)).toMatch(/expiresInDays/)
    }
    const created = await issue({ expiresInDays: 7 })
    expect(created.status).toBe(201)
    const { id, token, expiresAt } = created.body
    expect(Math.round((Date.parse(expiresAt) - Date.now()) / 86_400_000)).toBe(7)
    const machine = { name: 'machine', token }
    expect((await call(h.httpUrl, machine, 'GET', '/api/patients')).status).toBe(200)
    // The scheme is case-insensitive (RFC 7235): "bearer" and "BEARER" were 401s.
    for (const scheme of ['bearer', 'BEARER'])
      expect(
        (
          await fetch(`${h.httpUrl}/fhir/r4/Observation?_count=0`, {
            headers: { authorization: `${scheme} ${token}` },
          })
        ).status,
      ).toBe(200)
    const ws = new WebSocket(`${h.httpUrl.replace(/^http/, 'ws')}/ws`, {
      headers: { authorization: `Bearer ${token}` },
    })
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)))

    // Seven days later (the database says so; the server's clock cannot be moved).
    const db = new DatabaseSync(path.join(h.dataDir, 'vitalwire.db'))
    db.prepare('UPDATE api_tokens SET expires_ms = ? WHERE id = ?').run(Date.now() - 1000, id)
    db.close()
    const refused = await call(h.httpUrl, machine, 'GET', '/api/patients')
    expect(refused.status).toBe(401)
    expect(refused.body.error.message).toContain(`API token ${id} expired at`)
    expect(refused.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"')
    // FHIR says so too (its error handler replaced it with a bare "Bearer").
    const fhir = await fetch(`${h.httpUrl}/fhir/r4/Observation`, {
      headers: { authorization: `Bearer ${token}` },
    })
    expect([fhir.status, fhir.headers.get('www-authenticate')]).toEqual([401, 'Bearer error="invalid_token"'])
    expect(await closed).toBe(4401)
    // Someone without the secret learns nothing: the same id with another secret is a plain 401.
    const forged = await call(
      h.httpUrl,
      { name: 'x', token: `vwt_${id}_${'A'.repeat(43)}` },
      'GET',
      '/api/patients',
    )
    expect(forged.status).toBe(401)
    expect(forged.body.error.message).not.toContain('expired')
    const audit = (await call(h.httpUrl, admin, 'GET', '/api/audit?action=access:GET%20/api/patients')).body
      .entries
    expect(audit).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          target: `token:${id}`,
          outcome: 'denied',
          detail: expect.objectContaining({ token: 'expired' }),
        }),
      ]),
    )
  })
})
