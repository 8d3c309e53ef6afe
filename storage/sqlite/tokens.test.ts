import { describe, expect, it } from 'vitest'
import { openDatabase } from './database.ts'
import { createSqliteTokenStore } from './tokens.ts'

// Token expiry on a clock the test moves (test/e2e/api-credentials.int.test.ts covers the HTTP side).

const DAY = 86_400_000

function setup() {
  const db = openDatabase(':memory:')
  db.prepare(
    "INSERT INTO users (email, role, password_hash, created_ms) VALUES ('c@example.org', 'coordinator', 'x', 0)",
  ).run()
  const userId = (db.prepare('SELECT id FROM users').get() as { id: number }).id
  let t = Date.parse('2026-12-03T10:00:00Z')
  const store = createSqliteTokenStore(db, () => t)
  return { db, store, userId, advance: (ms: number) => (t += ms) }
}

describe('API token expiry', () => {
  it('works until the chosen day and is then reported expired, only to the holder of the secret', async () => {
    const { store, userId, advance } = setup()
    const t = await store.create(userId, 'sync', 7)
    expect(t.expiresAt).toBe('2026-12-10T10:00:00.000Z')
    advance(7 * DAY - 1)
    expect(await store.verify(t.token)).toEqual({ userId })
    advance(1)
    expect(await store.verify(t.token)).toEqual({ expiredAt: '2026-12-10T10:00:00.000Z', id: t.id })
    const forged = `vwt_${t.id}_${'A'.repeat(43)}`
    expect(await store.verify(forged)).toBeUndefined()
    expect((await store.list())[0]).toMatchObject({ id: t.id, expiresAt: t.expiresAt })
  })

  it('lasts 90 days by default and refuses a lifetime outside 1 to 365 days', async () => {
    const { store, userId } = setup()
    expect((await store.create(userId, 'default')).expiresAt).toBe('2027-03-03T10:00:00.000Z')
    for (const days of [0, 366, 1.5, Number.NaN])
      await expect(store.create(userId, 'bad', days)).rejects.toThrow(/1 to 365 days/)
  })

  it('keeps a token issued before expiry existed valid until revoked, and lists it without expiry', async () => {
    const { db, store, userId, advance } = setup()
    const t = await store.create(userId, 'legacy')
    db.prepare('UPDATE api_tokens SET expires_ms = NULL').run()
    advance(1000 * DAY)
    expect(await store.verify(t.token)).toEqual({ userId })
    expect((await store.list())[0].expiresAt).toBeUndefined()
    await store.revoke(t.id)
    expect(await store.verify(t.token)).toBeUndefined()
  })
})
