import { randomBytes } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { createFieldCipher } from '../../shared/data-key.ts'
import { openDatabase } from './database.ts'
import { createSqliteRegistry } from './registry.ts'

// The login lockout's counting on a real (in-memory) SQLite registry with a clock of our own.

describe('login lockout', () => {
  const LOCK_MS = 15 * 60_000
  async function fixture() {
    const clock = { ms: Date.parse('2026-12-03T08:00:00Z') }
    const registry = createSqliteRegistry(
      openDatabase(':memory:'),
      createFieldCipher(randomBytes(32)),
      () => clock.ms,
    )
    const { id } = await registry.addUser({ email: 'a@example.org', role: 'admin', passwordHash: 'x' })
    const state = async () => {
      const u = (await registry.getUser(id))!
      return { locked: u.lockedUntilMs !== undefined && u.lockedUntilMs > clock.ms }
    }
    const fail = () => registry.recordLogin(id, false, 5, LOCK_MS)
    return { clock, registry, id, state, fail }
  }

  it('locks at the fifth failure, for 15 minutes', async () => {
    const f = await fixture()
    for (let i = 0; i < 4; i++) await f.fail()
    expect(await f.state()).toEqual({ locked: false })
    await f.fail()
    expect(await f.state()).toEqual({ locked: true })
    f.clock.ms += LOCK_MS
    expect(await f.state()).toEqual({ locked: false })
  })

  it('counts again from one after a lock ran out (one failure every 15 minutes does not keep it locked)', async () => {
    const f = await fixture()
    for (let i = 0; i < 5; i++) await f.fail()
    for (let round = 0; round < 3; round++) {
      f.clock.ms += LOCK_MS
      await f.fail()
      expect(await f.state(), `round ${round}`).toEqual({ locked: false })
    }
    // Five in a row lock it again.
    for (let i = 0; i < 4; i++) await f.fail()
    expect(await f.state()).toEqual({ locked: true })
  })
})
