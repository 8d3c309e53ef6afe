import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createSqliteAuditLog } from './audit.ts'
import { openDatabase } from './database.ts'

describe('audit log: patients disclosed by multi-patient reads', () => {
  const read = (patients: string[]) => ({
    actor: 'c@example.org',
    action: 'patients.list',
    outcome: 'ok' as const,
    detail: { patients, count: patients.length },
  })
  const seqsFor = async (log: ReturnType<typeof createSqliteAuditLog>, patient: string) =>
    (await log.list({ patientId: patient, limit: 100 })).map((e) => e.seq).sort((a, b) => a - b)

  it('finds every read that disclosed a patient; a repeated list is indexed once and pointed at', async () => {
    const db = openDatabase(':memory:')
    const log = createSqliteAuditLog(db)
    const team = ['p1', 'p2', 'p3']
    log.append(read(team)) // 1
    log.append(read(team)) // 2: same list, same batch
    log.flush()
    log.append(read(team)) // 3: same list, later batch
    log.append(read(['p2', 'p4'])) // 4
    log.append(read(['p4'])) // 5
    log.append({ actor: 'c@example.org', action: 'patient.read', outcome: 'ok', patientId: 'p3' }) // 6
    expect(await seqsFor(log, 'p1')).toEqual([1, 2, 3])
    expect(await seqsFor(log, 'p2')).toEqual([1, 2, 3, 4])
    expect(await seqsFor(log, 'p3')).toEqual([1, 2, 3, 6])
    expect(await seqsFor(log, 'p4')).toEqual([4, 5])
    expect(await seqsFor(log, 'p9')).toEqual([])
    // The repeated list costs one index row per read, not one per patient.
    const rows = (seq: number) =>
      (db.prepare('SELECT COUNT(*) AS n FROM audit_patients WHERE seq = ?').get(seq) as { n: number }).n
    expect([rows(1), rows(2), rows(3)]).toEqual([3, 1, 1])
    expect(log.verify()).toMatchObject({ ok: true, entries: 6 })
  })

  it('a frozen detail (the worklist repeats one) is stored and hashed exactly like a fresh one', async () => {
    const db = openDatabase(':memory:')
    const log = createSqliteAuditLog(db)
    const detail = Object.freeze({ patients: Object.freeze(['p1', 'p"2', 'p\u00e93']), count: 3 })
    log.append({ ...read([]), detail })
    log.append({ ...read([]), detail })
    log.append(read(['p1', 'p"2', 'p\u00e93']))
    const entries = await log.list({ limit: 10 })
    expect(entries.map((e) => e.detail)).toEqual([detail, detail, detail])
    // verify() recomputes every hash from the stored row, without the cached encoding.
    expect(log.verify()).toMatchObject({ ok: true, entries: 3 })
    expect(await seqsFor(log, 'p"2')).toEqual([1, 2, 3])
  })

  it('a log opened later (another process, a restart) reads the pointers and indexes its own lists', async () => {
    const db = openDatabase(':memory:')
    const first = createSqliteAuditLog(db)
    first.append(read(['p1', 'p2']))
    first.append(read(['p1', 'p2']))
    first.flush()
    const second = createSqliteAuditLog(db)
    second.append(read(['p1', 'p2']))
    second.append(read(['p1', 'p2']))
    expect(await seqsFor(second, 'p2')).toEqual([1, 2, 3, 4])
    expect(await seqsFor(first, 'p1')).toEqual([1, 2, 3, 4])
    expect(second.verify()).toMatchObject({ ok: true, entries: 4 })
  })
})

describe('audit log: durability on a file', () => {
  const entry = { actor: 'c@example.org', action: 'patient.read', outcome: 'ok' as const, patientId: 'p1' }
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
  })
  function open() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-audit-'))
    dirs.push(dir)
    const file = path.join(dir, 'vitalwire.db')
    const db = openDatabase(file)
    const anchor = () => {
      try {
        return JSON.parse(fs.readFileSync(`${file}.audit-head`, 'utf8')).seq as number
      } catch {
        return undefined
      }
    }
    return { db, file, anchor }
  }

  it('a truncated log stays detected when new entries are written after it', async () => {
    const { db, file, anchor } = open()
    const log = createSqliteAuditLog(db)
    for (let i = 0; i < 5; i++) log.append(entry)
    log.flush()
    expect(anchor()).toBe(5)
    // Someone who can write only the database deletes the last three entries...
    const other = new DatabaseSync(file)
    other.exec('DELETE FROM audit WHERE seq > 2')
    other.close()
    expect(log.verify()).toMatchObject({ ok: false, reason: expect.stringMatching(/log truncated/) })
    // ...and anonymous failed logins append four more, reusing positions 3 to 6. The anchor used to move
    // on to 6 and the log to verify as intact.
    for (let i = 0; i < 4; i++) log.append(entry)
    log.flush()
    expect(anchor()).toBe(5)
    expect(log.verify()).toMatchObject({ ok: false, firstBadSeq: 5 })
    db.close()
  })

  it('commits a batch after its window, syncs it off the event loop, then anchors it', async () => {
    const { db, file, anchor } = open()
    const log = createSqliteAuditLog(db)
    log.append(entry)
    log.append(entry)
    const other = new DatabaseSync(file)
    const count = () => (other.prepare('SELECT COUNT(*) AS n FROM audit').get() as { n: number }).n
    expect(count()).toBe(0)
    await vi.waitFor(() => expect(anchor()).toBe(2), { timeout: 2000, interval: 10 })
    expect(count()).toBe(2)
    // The connection syncs its own commits again (the registry, sessions, alerts share it).
    expect((db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous).toBe(2)
    other.close()
    db.close()
  })

  it('flush() returns with everything committed, synced and anchored, also what the timer committed', async () => {
    const { db, anchor } = open()
    const log = createSqliteAuditLog(db)
    log.append(entry)
    // Let the timer commit (its sync and anchor run in the background), then flush at once.
    await vi.waitFor(() => expect((db.prepare('SELECT COUNT(*) AS n FROM audit').get() as any).n).toBe(1), {
      timeout: 2000,
      interval: 1,
    })
    log.flush()
    expect(anchor()).toBe(1)
    log.append(entry)
    log.flush()
    expect(anchor()).toBe(2)
    expect(log.verify()).toMatchObject({ ok: true, entries: 2, anchored: true })
    // A background write finishing late never moves the anchor back.
    await new Promise((r) => setTimeout(r, 100))
    expect(anchor()).toBe(2)
    db.close()
  })

  it('closing while a background sync runs: flush() anchors it, the late sync writes nothing after', async () => {
    for (let i = 0; i < 20; i++) {
      const { db, file, anchor } = open()
      const log = createSqliteAuditLog(db)
      log.append(entry)
      await vi.waitFor(() => expect((db.prepare('SELECT COUNT(*) AS n FROM audit').get() as any).n).toBe(1), {
        timeout: 2000,
        interval: 1,
      })
      log.flush()
      expect(anchor()).toBe(1)
      db.close()
      // The data dir goes away at once (a test's cleanup, a bench run's end).
      fs.rmSync(path.dirname(file), { recursive: true, force: true })
    }
    await new Promise((r) => setTimeout(r, 200))
  })
})
