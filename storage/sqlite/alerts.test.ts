import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createMemoryAlertStore } from '../../alerts/memory-store.ts'
import type { Alert } from '../../shared/alert.ts'
import { alertFixture } from '../../test/contract/fixtures.ts'
import { createSqliteAlertStore } from './alerts.ts'
import { createFileSyncer, openDatabase } from './database.ts'

// Alert writes are durable before their promise settles, and on the server's connection (synchronous=FULL)
// the sync runs on the thread pool, not on the event loop that acknowledges readings.

const at = '2026-11-27T10:00:00.000Z'
const alert = (id: string): Alert =>
  alertFixture({
    id,
    patientId: 'p1',
    rule: `hr-high-${id}`,
    severity: 'high',
    message: 'Heart rate 140 /min, 10 above the limit > 130 at 2026-11-27T10:00:00.000Z',
    history: [{ at, by: 'system', action: 'opened' }],
  })

describe('alert store writes', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
  })
  function file() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-alerts-'))
    dirs.push(dir)
    return path.join(dir, 'v.db')
  }

  it('commit without the sync, then settle only after the WAL is synced off the event loop', async () => {
    const dbPath = file()
    const db = openDatabase(dbPath)
    // The server's syncer (a descriptor kept open), its fdatasync held until the test releases it.
    const synced: string[] = []
    let release: (() => void) | undefined
    const wal = createFileSyncer(`${dbPath}-wal`, (fd, cb) => {
      synced.push(fs.readlinkSync(`/proc/self/fd/${fd}`))
      release = () => fs.fdatasync(fd, cb)
    })
    const store = createSqliteAlertStore(db, { syncWal: wal.sync })
    let settled = false
    const write = store.insert(alert('a1')).then(() => (settled = true))
    await new Promise((r) => setTimeout(r, 20))
    // Committed (another connection sees it), the WAL sync asked for, the caller not answered yet.
    const reader = openDatabase(dbPath)
    expect((reader.prepare('SELECT COUNT(*) AS n FROM alerts').get() as { n: number }).n).toBe(1)
    expect(synced).toEqual([`${dbPath}-wal`])
    expect(settled).toBe(false)
    // The connection is back to syncing on commit for everything else that writes through it.
    expect(db.prepare('PRAGMA synchronous').get()).toEqual({ synchronous: 2 })
    release?.()
    await write
    expect(settled).toBe(true)
    reader.close()
    db.close()
    wal.close()
  })

  it('refuses the writes whose sync failed, saying so', async () => {
    const db = openDatabase(file())
    const store = createSqliteAlertStore(db, {
      syncWal: () => Promise.reject(Object.assign(new Error('EIO: i/o error'), { code: 'EIO' })),
    })
    await expect(store.update(alert('a2'))).rejects.toThrow(/could not be synced/)
    await expect(store.insert(alert('a3'))).rejects.toThrow(/could not be synced/)
    db.close()
  })

  it('an in-memory database commits and settles at once, with no sync to run', async () => {
    const db = openDatabase(':memory:')
    let syncs = 0
    const store = createSqliteAlertStore(db, { syncWal: async () => void syncs++ })
    await store.insert(alert('a4'))
    expect(await store.get('a4')).toMatchObject({ id: 'a4', status: 'open' })
    expect(syncs).toBe(0)
    db.close()
  })
})

describe('alert lists, in the SQLite store and the in-memory one (replays)', () => {
  // Five alerts, two of them changed in the same millisecond: both stores give the same orders.
  const t0 = Date.parse('2026-11-27T10:00:00Z')
  const alerts = [0, 1000, 1000, 2000, 3000].map((ms, i) =>
    alertFixture(
      { id: `a${i}`, patientId: 'p1', rule: `r${i}`, severity: 'low' },
      new Date(t0 + ms).toISOString(),
    ),
  )
  it.each([
    ['sqlite', () => createSqliteAlertStore(openDatabase(':memory:'))],
    ['memory', () => createMemoryAlertStore()],
  ])('%s: newest change first, or the change feed after a point, oldest first', async (_name, make) => {
    const store = make()
    for (const a of alerts) await store.insert(a)
    const ids = async (q: Parameters<typeof store.list>[0]) => (await store.list(q)).map((a) => a.id)
    expect(await ids({ limit: 10 })).toEqual([
      'a4',
      'a3',
      expect.stringMatching(/^a[12]$/),
      expect.stringMatching(/^a[12]$/),
      'a0',
    ])
    expect(await ids({ limit: 10, changedAfter: { updatedMs: t0 + 1000, id: 'a1' } })).toEqual([
      'a2',
      'a3',
      'a4',
    ])
    expect(await ids({ limit: 2, changedAfter: { updatedMs: t0, id: 'a0' } })).toEqual(['a1', 'a2'])
  })

  it.each([
    ['sqlite', () => createSqliteAlertStore(openDatabase(':memory:'))],
    ['memory', () => createMemoryAlertStore()],
  ])("%s: a patient's most recently resolved alert of a rule, never a live one", async (_name, make) => {
    const store = make()
    const at = (ms: number) => new Date(t0 + ms).toISOString()
    const resolved = (id: string, ms: number) => ({
      ...alertFixture({ id, patientId: 'p1', rule: 'spo2-low', severity: 'high' }, at(ms)),
      status: 'resolved' as const,
    })
    await store.insert(resolved('old', 0))
    await store.insert(resolved('new', 5000))
    await store.insert({ ...resolved('other-rule', 9000), rule: 'hr-high' })
    await store.insert(
      alertFixture({ id: 'live', patientId: 'p1', rule: 'spo2-low', severity: 'high' }, at(9000)),
    )
    expect((await store.lastResolved('p1', 'spo2-low'))?.id).toBe('new')
    expect(await store.lastResolved('p2', 'spo2-low')).toBeUndefined()
  })
})
