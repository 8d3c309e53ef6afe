import { describe, expect, it } from 'vitest'
import { openDatabase } from './database.ts'
import { createSqliteSessionStore } from './sessions.ts'

const IDLE = 15 * 60_000

describe('session store', () => {
  function setup() {
    const db = openDatabase(':memory:')
    let t = Date.parse('2026-11-27T08:00:00Z')
    const store = createSqliteSessionStore(db, IDLE, () => t)
    const expiry = () =>
      (db.prepare('SELECT expires_ms FROM sessions WHERE sid = ?').get('s1') as { expires_ms: number })
        .expires_ms
    const set = (session: object) => new Promise<void>((r) => store.set('s1', session, () => r()))
    return { store, expiry, set, advance: (ms: number) => (t += ms), now: () => t }
  }
  // With rolling sessions the cookie's expiry changes on every request, the rest does not.
  const session = (expires: number, userId = 7) => ({
    userId,
    cookie: { expires: new Date(expires), originalMaxAge: IDLE },
  })

  it('does not write a touch that only moves the cookie expiry by less than the slack', async () => {
    const s = setup()
    await s.set(session(s.now() + IDLE))
    const first = s.expiry()
    s.advance(1000)
    await s.set(session(s.now() + IDLE))
    expect(s.expiry()).toBe(first)
    s.advance(10_000)
    await s.set(session(s.now() + IDLE))
    expect(s.expiry()).toBe(s.now() + IDLE)
  })

  it('writes at once when the session content changes', async () => {
    const s = setup()
    await s.set(session(s.now() + IDLE))
    s.advance(1000)
    await s.set(session(s.now() + IDLE, 8))
    expect(s.expiry()).toBe(s.now() + IDLE)
    const got = await new Promise<any>((r) => s.store.get('s1', (_e, v) => r(v)))
    expect(got.userId).toBe(8)
  })

  it('forgets a session whose idle time has passed', async () => {
    const s = setup()
    await s.set(session(s.now() + IDLE))
    s.advance(IDLE + 1)
    expect(await new Promise((r) => s.store.get('s1', (_e, v) => r(v)))).toBeNull()
  })
})
