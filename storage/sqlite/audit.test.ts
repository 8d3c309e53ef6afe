import { describe, expect, it } from 'vitest'
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
