import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { heartRates, ids, NOW_MS, observe } from '../../test/contract/fixtures.ts'
import { startCheckpointer } from './checkpointer.ts'
import { openDatabase, transaction } from './database.ts'
import { openEmbeddedStorage } from './index.ts'
import { createSqliteJournal } from './journal.ts'
import { INSERT_READING_SQL, readingParams } from './readings.ts'

describe('journal with the WAL synced off the event loop', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
  })
  function tmp() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-journal-'))
    dirs.push(dir)
    return path.join(dir, 'v.db')
  }

  /** fdatasync held until the test releases it: the disk is the one thing a test cannot slow down. */
  function gatedSync() {
    const waiting: (() => void)[] = []
    let calls = 0
    return {
      fdatasync(fd: number, cb: (err: NodeJS.ErrnoException | null) => void) {
        calls++
        waiting.push(() => fs.fdatasync(fd, cb))
      },
      release() {
        for (const go of waiting.splice(0)) go()
      },
      calls: () => calls,
    }
  }

  it('answers only after the WAL is synced; what arrives during a sync is one transaction after it, synced once more', async () => {
    const file = tmp()
    openDatabase(file).close()
    const db = openDatabase(file, { synchronous: 'NORMAL' })
    const gate = gatedSync()
    const journal = createSqliteJournal(db, { outbox: false, walSync: { walPath: `${file}-wal`, ...gate } })
    const { patient, device } = ids()
    const readings = heartRates(device, patient, 30, NOW_MS - 60 * 60_000)

    let answered = 0
    const first = journal.commit({ accepted: readings.slice(0, 10), deadLetters: [] }).then((r) => {
      answered++
      return r
    })
    await new Promise((r) => setImmediate(r))
    // Committed (another connection sees it) but not yet synced: no answer yet.
    const reader = openDatabase(file)
    expect((reader.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n).toBe(10)
    expect(answered).toBe(0)
    expect(gate.calls()).toBe(1)

    // Two more commits in two later turns while that sync is in flight: they wait for it and then
    // become one transaction, covered by one more sync.
    const later = [
      journal.commit({ accepted: readings.slice(10, 20), deadLetters: [] }),
      new Promise((r) => setImmediate(r)).then(() =>
        journal.commit({ accepted: readings.slice(20), deadLetters: [] }),
      ),
    ]
    await new Promise((r) => setTimeout(r, 20))
    expect(journal.committed()).toBe(1)
    expect((reader.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n).toBe(10)
    expect(answered).toBe(0)
    gate.release()
    expect((await first).fresh).toHaveLength(10)
    await new Promise((r) => setTimeout(r, 20))
    expect(journal.committed()).toBe(2)
    expect((reader.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n).toBe(30)
    expect(gate.calls()).toBe(2)
    let laterAnswered = false
    void Promise.all(later).then(() => (laterAnswered = true))
    await new Promise((r) => setTimeout(r, 20))
    expect(laterAnswered).toBe(false)
    gate.release()
    const [a, b] = await Promise.all(later)
    expect([a.fresh.length, b.fresh.length]).toEqual([10, 10])
    await journal.close()
    reader.close()
    db.close()
  })

  it('refuses this and every later commit once a sync has failed', async () => {
    const file = tmp()
    openDatabase(file).close()
    const db = openDatabase(file, { synchronous: 'NORMAL' })
    const journal = createSqliteJournal(db, {
      outbox: false,
      walSync: {
        walPath: `${file}-wal`,
        fdatasync: (_fd, cb) => cb(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })),
      },
    })
    const { patient, device } = ids()
    const [one, two] = heartRates(device, patient, 2, NOW_MS - 60_000)
    await expect(journal.commit({ accepted: [one], deadLetters: [] })).rejects.toThrow(/could not sync/)
    await expect(journal.commit({ accepted: [two], deadLetters: [] })).rejects.toThrow(/could not sync/)
    // The second never reached the database.
    expect((db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n).toBe(1)
    await journal.close()
    db.close()
  })

  it('in the server, a failed sync takes readiness down with the reason and logs it once', async () => {
    const dbPath = tmp()
    const errors: unknown[][] = []
    const s = openEmbeddedStorage({
      dataDir: path.dirname(dbPath),
      dbPath,
      outbox: false,
      serve: {
        log: { warn: () => {}, error: (...a: unknown[]) => errors.push(a) },
        fdatasync: (_fd, cb) => cb(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })),
      },
    })
    expect(s.check()).toEqual({ ok: true })
    const { patient, device } = ids()
    const [one, two] = heartRates(device, patient, 2, NOW_MS - 60_000)
    await expect(s.journal.commit({ accepted: [one], deadLetters: [] })).rejects.toThrow(/could not sync/)
    await expect(s.journal.commit({ accepted: [two], deadLetters: [] })).rejects.toThrow(/could not sync/)
    expect(s.check()).toEqual({
      ok: false,
      detail:
        'the journal could not sync the database to disk; readings are refused; check the disk, then restart Vitalwire',
    })
    expect(errors).toHaveLength(1)
    expect(errors[0][1]).toMatch(/readings are refused until Vitalwire restarts/)
    expect((errors[0][0] as { err: Error }).err.cause).toMatchObject({ code: 'EIO' })
    await s.close()
  })

  it('in the server, a WAL that keeps growing degrades readiness with what it means, and clears once it restarts', async () => {
    const dbPath = tmp()
    const s = openEmbeddedStorage({
      dataDir: path.dirname(dbPath),
      dbPath,
      outbox: false,
      serve: { log: { warn: () => {}, error: () => {} }, checkpoints: { intervalMs: 5, restartFrames: 16 } },
    })
    // A reader holding an old snapshot: no checkpoint can copy past it, so the WAL cannot start over.
    const reader = openDatabase(dbPath)
    reader.exec('BEGIN')
    reader.prepare('SELECT COUNT(*) FROM readings').get()
    const { patient, device } = ids()
    const rs = heartRates(device, patient, 5000, NOW_MS - 5000 * 60_000)
    for (let i = 0; i < rs.length && s.check().ok && !s.check().degraded; i += 50) {
      await s.journal.commit({ accepted: rs.slice(i, i + 50), deadLetters: [] })
      await new Promise((r) => setTimeout(r, 2))
    }
    await vi.waitFor(() => expect(s.check().degraded).toBe(true), { timeout: 5000 })
    expect(s.check()).toEqual({
      ok: true,
      degraded: true,
      detail: expect.stringMatching(
        /^the database's write-ahead log keeps growing \(\d+ MiB\): checkpoints cannot start it over, and the disk may fill/,
      ),
    })
    reader.exec('COMMIT')
    reader.close()
    // With the reader gone, a checkpoint copies everything and the next commit starts the WAL over;
    // the growth report goes stale and the check clears.
    const more = heartRates(`${device}-2`, patient, 10_000, NOW_MS - 10_000 * 60_000)
    const deadline = Date.now() + 15_000
    for (let i = 0; i < more.length && s.check().degraded && Date.now() < deadline; i += 10) {
      await s.journal.commit({ accepted: more.slice(i, i + 10), deadLetters: [] })
      await new Promise((r) => setTimeout(r, 10))
    }
    expect(s.check()).toEqual({ ok: true })
    await s.close()
  })

  it('refuses what waited for a sync that then failed (it was never committed)', async () => {
    const file = tmp()
    openDatabase(file).close()
    const db = openDatabase(file, { synchronous: 'NORMAL' })
    let fail: (() => void) | undefined
    const journal = createSqliteJournal(db, {
      outbox: false,
      walSync: {
        walPath: `${file}-wal`,
        fdatasync: (_fd, cb) => {
          fail = () => cb(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }))
        },
      },
    })
    const { patient, device } = ids()
    const [one, two] = heartRates(device, patient, 2, NOW_MS - 60_000)
    const first = journal.commit({ accepted: [one], deadLetters: [] })
    const firstRefused = expect(first).rejects.toThrow(/could not sync/)
    await new Promise((r) => setImmediate(r))
    const second = journal.commit({ accepted: [two], deadLetters: [] })
    const secondRefused = expect(second).rejects.toThrow(/could not sync/)
    await new Promise((r) => setImmediate(r))
    expect((db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n).toBe(1)
    fail?.()
    await firstRefused
    await secondRefused
    expect((db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n).toBe(1)
    await journal.close()
    db.close()
  })

  it('in the server, keeps the WAL bounded under a load that never pauses (commits wait for one checkpoint, then the WAL starts over)', async () => {
    const dbPath = tmp()
    const warnings: unknown[] = []
    const log = { warn: (...a: unknown[]) => warnings.push(a), error: (...a: unknown[]) => warnings.push(a) }
    const restartFrames = Number(process.env.VW_TEST_RESTART_FRAMES ?? 256)
    const s = openEmbeddedStorage({
      dataDir: path.dirname(dbPath),
      dbPath,
      outbox: false,
      serve: { log, checkpoints: { intervalMs: 5, restartFrames } },
    })
    // 16 devices of 16 patients commit back to back: a transaction every turn, never a pause in
    // which a checkpoint could catch up on its own. Without the hold the WAL grew to ~80 MiB here (with it, ~3 MiB).
    const streams = Array.from({ length: 16 }, () => {
      const { patient, device } = ids()
      return heartRates(device, patient, 2000, NOW_MS - 2000 * 60_000)
    })
    let maxWal = 0
    await Promise.all(
      streams.map(async (rs) => {
        for (let i = 0; i < rs.length; i += 10) {
          const { fresh } = await s.journal.commit({ accepted: rs.slice(i, i + 10), deadLetters: [] })
          expect(fresh).toHaveLength(10)
          maxWal = Math.max(maxWal, fs.statSync(`${dbPath}-wal`).size)
        }
      }),
    )
    expect(maxWal).toBeGreaterThan(restartFrames * 4096)
    expect(maxWal).toBeLessThan(16 * 2 ** 20)
    await s.close()
    // No checkpoint failed. (A busy CI machine may delay a few of these 1 MiB restarts, which the growth
    // warning, four times the restart size, then reports: noise at this size, so it is let through.)
    expect(warnings.filter((w) => !String((w as unknown[])[1]).startsWith('the WAL keeps growing'))).toEqual(
      [],
    )
    const again = openDatabase(dbPath)
    expect((again.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n).toBe(32_000)
    expect(again.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })
    again.close()
  })

  it('warns when the WAL keeps growing because checkpoints cannot start it over (a reader holds an old snapshot)', async () => {
    const dbPath = tmp()
    const db = openDatabase(dbPath)
    const reader = openDatabase(dbPath)
    reader.exec('BEGIN')
    reader.prepare('SELECT COUNT(*) FROM readings').get()
    const warnings: unknown[][] = []
    const errors: unknown[][] = []
    const checkpointer = startCheckpointer({
      dbPath,
      connections: [db],
      log: { warn: (...a: unknown[]) => warnings.push(a), error: (...a: unknown[]) => errors.push(a) },
      intervalMs: 5,
      restartFrames: 16,
      hold: (work) => work(),
    })
    const { patient, device } = ids()
    const rs = heartRates(device, patient, 5000, NOW_MS - 5000 * 60_000)
    const insert = db.prepare(INSERT_READING_SQL)
    for (let i = 0; i < rs.length && warnings.length === 0; i += 50) {
      transaction(db, () => {
        for (const o of rs.slice(i, i + 50)) insert.run(...readingParams(o))
      })
      await new Promise((r) => setTimeout(r, 2))
    }
    await vi.waitFor(() => expect(warnings.length).toBeGreaterThan(0), { timeout: 5000 })
    expect(warnings[0][1]).toBe('the WAL keeps growing: checkpoints cannot start it over')
    expect((warnings[0][0] as { walFrames: number }).walFrames).toBeGreaterThanOrEqual(64)
    // Once a minute at most.
    await new Promise((r) => setTimeout(r, 50))
    expect(warnings).toHaveLength(1)
    expect(errors).toEqual([])
    reader.exec('COMMIT')
    reader.close()
    await checkpointer.close()
    db.close()
  })

  it('in the server, syncs with the real fdatasync and checkpoints on a worker thread, not on COMMIT', async () => {
    const dbPath = tmp()
    const dataDir = path.dirname(dbPath)
    const warnings: unknown[] = []
    const s = openEmbeddedStorage({
      dataDir,
      dbPath,
      outbox: false,
      serve: {
        log: { warn: (...a: unknown[]) => warnings.push(a), error: (...a: unknown[]) => warnings.push(a) },
      },
    })
    const auto = s.db.prepare('PRAGMA wal_autocheckpoint').get() as { wal_autocheckpoint: number }
    expect(auto.wal_autocheckpoint).toBe(0)
    const { patient, device } = ids()
    const readings = heartRates(device, patient, 3000, NOW_MS - 3000 * 60_000)
    const { fresh } = await s.journal.commit({ accepted: readings, deadLetters: [] })
    expect(fresh).toHaveLength(3000)
    // The worker copies the WAL into the database file within its interval.
    const before = fs.statSync(dbPath).size
    for (let i = 0; i < 100 && fs.statSync(dbPath).size <= before; i++)
      await new Promise((r) => setTimeout(r, 50))
    expect(fs.statSync(dbPath).size).toBeGreaterThan(before)
    await s.close()
    expect(warnings).toEqual([])
    const again = openDatabase(dbPath)
    expect((again.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n).toBe(3000)
    expect(again.prepare('PRAGMA integrity_check').get()).toEqual({ integrity_check: 'ok' })
    again.close()
  })

  it('closes a process that has nothing else to do: the last checkpoint is awaited, not abandoned', () => {
    const dbPath = tmp()
    const index = new URL('./index.ts', import.meta.url).pathname
    const script = `
      import { openEmbeddedStorage } from ${JSON.stringify(index)}
      const s = openEmbeddedStorage({ dataDir: ${JSON.stringify(path.dirname(dbPath))}, dbPath: ${JSON.stringify(dbPath)}, outbox: false, serve: { log: console } })
      await s.close()
      console.log('closed')`
    // Before the fix the worker was still unreferenced while close() waited for it, so the process
    // ran out of work mid-close and exited 13 ("unsettled top-level await") with the database open.
    const file = path.join(path.dirname(dbPath), 'close.mjs')
    fs.writeFileSync(file, script)
    const out = execFileSync(process.execPath, [file], { encoding: 'utf8' })
    expect(out.trim()).toBe('closed')
    expect(fs.existsSync(`${dbPath}-wal`)).toBe(false)
  })
})

describe('journal: replays and reused ids', () => {
  it('stores a replay once without a word, and returns another reading under a stored key as a conflict', async () => {
    const db = openDatabase(':memory:')
    const journal = createSqliteJournal(db, { outbox: false })
    const at = NOW_MS - 60_000
    const [first] = observe('d1', 'p1', { id: 'r1', type: 'spo2', value: 97, ts: at })
    const [replay] = observe('d1', 'p1', {
      id: 'r1',
      type: 'spo2',
      value: 97,
      ts: new Date(at).toISOString(),
    })
    const [otherValue] = observe('d1', 'p1', { id: 'r1', type: 'spo2', value: 82, ts: at })
    const [otherTime] = observe('d1', 'p1', { id: 'r1', type: 'spo2', value: 97, ts: at + 1000 })
    const [otherType] = observe('d1', 'p1', { id: 'r1', type: 'heart-rate', value: 97, ts: at })
    expect(await journal.commit({ accepted: [first], deadLetters: [] })).toEqual({
      fresh: [first],
      conflicts: [],
    })
    expect(await journal.commit({ accepted: [replay], deadLetters: [] })).toEqual({
      fresh: [],
      conflicts: [],
    })
    expect(await journal.commit({ accepted: [otherValue, otherTime, otherType], deadLetters: [] })).toEqual({
      fresh: [],
      conflicts: [otherValue, otherTime, otherType],
    })
    // Within one transaction too: the second of two readings under one new key.
    const [a] = observe('d1', 'p1', { id: 'r2', type: 'spo2', value: 95, ts: at })
    const [b] = observe('d1', 'p1', { id: 'r2', type: 'spo2', value: 85, ts: at })
    const both = await Promise.all([
      journal.commit({ accepted: [a], deadLetters: [] }),
      journal.commit({ accepted: [b], deadLetters: [] }),
    ])
    expect(both).toEqual([
      { fresh: [a], conflicts: [] },
      { fresh: [], conflicts: [b] },
    ])
    // A reading sent without a time is timed at each receipt: its resend is a replay, not a conflict.
    const [untimed] = observe('d1', 'p1', { id: 'r3', type: 'spo2', value: 96 })
    await journal.commit({ accepted: [untimed], deadLetters: [] })
    const resent = { ...untimed, effectiveMs: untimed.effectiveMs + 5000 }
    expect(await journal.commit({ accepted: [resent], deadLetters: [] })).toEqual({
      fresh: [],
      conflicts: [],
    })
    // Resent with a time of its own: still the same reading (only its receipt timing differs).
    const timed = { ...untimed, flags: [], effectiveMs: untimed.effectiveMs + 7000 }
    expect(await journal.commit({ accepted: [timed], deadLetters: [] })).toEqual({ fresh: [], conflicts: [] })
    expect((db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n).toBe(3)
  })
})
