import { DatabaseSync } from 'node:sqlite'
import { describe, expect, it } from 'vitest'
import { observationId, observationResource } from '../../shared/fhir.ts'
import { NOW_MS, observe } from '../../test/contract/fixtures.ts'
import { migrate } from './database.ts'
import { MIGRATIONS } from './migrations.ts'
import {
  createSqliteLocator,
  createSqliteReadingStore,
  INSERT_READING_SQL,
  readingParams,
} from './readings.ts'

describe('schema migrations', () => {
  it('refuses a database newer than this build', () => {
    const db = new DatabaseSync(':memory:')
    db.exec(`PRAGMA user_version = ${MIGRATIONS.length + 1}`)
    expect(() => migrate(db)).toThrow(/newer than this Vitalwire/)
  })

  it('converts readings stored as whole Observation JSON (schema 1) into compact rows, losslessly', async () => {
    const batch = [
      ...observe('cuff-1', 'p-1', {
        id: 'bp',
        type: 'blood-pressure',
        systolic: 128,
        diastolic: 82,
        pulse: 71,
        ts: '2026-11-27T08:15:00+02:00',
      }),
      ...observe('meter-1', 'p-1', {
        id: 'g',
        type: 'blood-glucose',
        value: 'HI',
        unit: 'mg/dL',
        ts: NOW_MS,
      }),
      ...observe('ox-1', 'p-1', { id: 's', type: 'spo2', value: 68 }),
    ]
    const db = new DatabaseSync(':memory:')
    for (const m of MIGRATIONS.slice(0, 1)) db.exec(m)
    db.exec('PRAGMA user_version = 1')
    const insert = db.prepare(
      `INSERT INTO readings (key, id, patient_id, device_id, type, effective_ms, received_ms, vals, resource)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    for (const o of batch) {
      insert.run(
        o.key,
        o.id,
        o.patientId,
        o.deviceId,
        o.type,
        o.effectiveMs,
        o.receivedMs,
        JSON.stringify(o.values),
        JSON.stringify(observationResource(o)),
      )
    }

    expect(migrate(db)).toBe(MIGRATIONS.length)

    const store = createSqliteReadingStore(db)
    for (const o of batch) {
      const back = await store.get(o.id)
      expect(back).toEqual(o)
      expect(observationResource(back!)).toEqual(observationResource(o))
    }
    const cols = db.prepare('PRAGMA table_info(readings)').all() as { name: string }[]
    expect(cols.map((c) => c.name)).not.toContain('resource')
  })

  it('indexes the patients of audit entries written before migration 3 (detail.patients)', () => {
    const db = new DatabaseSync(':memory:')
    for (const m of MIGRATIONS.slice(0, 2)) db.exec(m)
    db.exec('PRAGMA user_version = 2')
    const add = db.prepare(
      `INSERT INTO audit (at_ms, actor, action, outcome, patient_id, detail, prev_hash, hash)
       VALUES (1, 'a', ?, 'ok', ?, ?, 'x', 'y')`,
    )
    add.run('patients.list', null, JSON.stringify({ patients: ['p1', 'p2'], count: 2 }))
    add.run('patient.read', 'p3', null)
    add.run('audit.list', null, JSON.stringify({ count: 0 }))
    migrate(db)
    const rows = db.prepare('SELECT patient_id, seq FROM audit_patients ORDER BY patient_id').all()
    expect(rows).toEqual([
      { patient_id: 'p1', seq: 1 },
      { patient_id: 'p2', seq: 1 },
    ])
  })

  it('drops the id index (migration 4) and still finds every reading by id, also those whose id predates time-prefixed ids', async () => {
    const db = new DatabaseSync(':memory:')
    for (const m of MIGRATIONS.slice(0, 3)) db.exec(m)
    db.exec('PRAGMA user_version = 3')
    const insert = db.prepare(INSERT_READING_SQL)
    // Time-prefixed ids over effective times from 1970 to 2059, and one from before 1970 (clamped to 0).
    const times = [0, 1, 35, 36, 1_295, 1_296, 1_700_000_000_000, NOW_MS, 2_821_109_907_455, -5]
    const current = times.map((ms, i) => {
      const [o] = observe('dev-1', 'p-1', { id: `r${i}`, type: 'heart-rate', value: 60 + i, ts: NOW_MS })
      return { ...o, effectiveMs: ms, id: observationId(o.key, ms) }
    })
    // An id from before ids started with the time: all hex.
    const [old] = observe('dev-1', 'p-1', { id: 'old', type: 'heart-rate', value: 70, ts: NOW_MS })
    const legacy = { ...old, id: 'f'.repeat(9) + old.id.slice(9) }
    for (const o of [...current, legacy]) insert.run(...readingParams(o))
    const rowids = db.prepare('SELECT rowid, key FROM readings ORDER BY rowid').all()

    expect(migrate(db)).toBe(MIGRATIONS.length)

    const indexed = (db.prepare('PRAGMA index_list(readings)').all() as { name: string }[]).map((i) => i.name)
    const idIndexes = indexed.filter(
      (name) => (db.prepare(`PRAGMA index_info(${name})`).all() as { name: string }[])[0]?.name === 'id',
    )
    expect(idIndexes).toEqual([])
    expect(db.prepare('SELECT rowid, key FROM readings ORDER BY rowid').all()).toEqual(rowids)
    // Only the all-hex id needs the legacy list; the clamped pre-1970 one is listed too (its id does
    // not start with its own time), every other id starts with its effective time.
    const listed = db.prepare('SELECT id FROM reading_legacy_ids ORDER BY id').all() as { id: string }[]
    expect(listed.map((r) => r.id).sort()).toEqual([current[current.length - 1].id, legacy.id].sort())

    const store = createSqliteReadingStore(db)
    const locate = createSqliteLocator(db)
    for (const o of [...current, legacy]) {
      expect(await store.get(o.id)).toEqual(o)
      expect(await locate(o.id)).toMatchObject({ key: o.key, effectiveMs: o.effectiveMs })
    }
    const other = (id: string) => id.slice(0, 31) + (id.endsWith('0') ? '1' : '0')
    expect(await store.get(other(legacy.id))).toBeUndefined()
    expect(await store.get(other(current[7].id))).toBeUndefined()
    expect(await store.get('not-an-id')).toBeUndefined()
  })
})
