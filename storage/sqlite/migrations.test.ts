import { DatabaseSync } from 'node:sqlite'
import { describe, expect, it } from 'vitest'
import { observationResource } from '../../shared/fhir.ts'
import { NOW_MS, observe } from '../../test/contract/fixtures.ts'
import { migrate } from './database.ts'
import { MIGRATIONS } from './migrations.ts'
import { createSqliteReadingStore } from './readings.ts'

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
})
