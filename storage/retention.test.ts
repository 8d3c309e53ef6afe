import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../shared/config.ts'
import { heartRates, ids, NOW_MS } from '../test/contract/fixtures.ts'
import { pruneReadings, RETENTION_CHUNK } from './retention.ts'
import { openDatabase } from './sqlite/database.ts'
import { createSqliteJournal } from './sqlite/journal.ts'
import { createSqliteReadingStore } from './sqlite/readings.ts'

const DAY = 86_400_000

describe('retention', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
  })
  function open() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-ret-'))
    dirs.push(dir)
    return openDatabase(path.join(dir, 'v.db'))
  }

  it('prunes readings older than the period, in chunks, and keeps newer ones', async () => {
    const db = open()
    const store = createSqliteReadingStore(db)
    const { patient, device } = ids()
    const old = heartRates(device, patient, RETENTION_CHUNK + 500, NOW_MS - 20 * DAY).map((o, i) => ({
      ...o,
      effectiveMs: NOW_MS - 20 * DAY + i,
    }))
    const recent = heartRates(`${device}-new`, patient, 10, NOW_MS - DAY)
    await store.write([...old, ...recent])
    // Ids from before ids started with their time (migration 4 lists them) go with their readings.
    const legacy = db.prepare('INSERT INTO reading_legacy_ids (id, key) VALUES (?, ?)')
    legacy.run('a'.repeat(32), old[0].key)
    legacy.run('b'.repeat(32), recent[0].key)
    const r = await pruneReadings(db, { retentionMs: 10 * DAY, nowMs: NOW_MS })
    expect(r).toEqual({ deleted: old.length, keptInOutbox: 0 })
    expect(await store.count({})).toBe(10)
    expect(db.prepare('SELECT key FROM reading_legacy_ids').all()).toEqual([{ key: recent[0].key }])
    expect((await store.latest([patient])).map((o) => o.key)).toEqual([recent[9].key])
    db.close()
  })

  it('never prunes a reading still waiting in the outbox', async () => {
    const db = open()
    const journal = createSqliteJournal(db, { outbox: true })
    const { patient, device } = ids()
    const old = heartRates(device, patient, 6, NOW_MS - 20 * DAY)
    await journal.commit({ accepted: old, deadLetters: [] })
    // Three of them were forwarded: their outbox rows are gone.
    db.prepare('DELETE FROM outbox WHERE key IN (?, ?, ?)').run(old[0].key, old[1].key, old[2].key)
    const r = await pruneReadings(db, { retentionMs: 10 * DAY, nowMs: NOW_MS })
    expect(r).toEqual({ deleted: 3, keptInOutbox: 3 })
    const left = db.prepare('SELECT key FROM readings ORDER BY key').all() as { key: string }[]
    expect(left.map((x) => x.key)).toEqual(old.slice(3).map((o) => o.key))
    db.close()
  })
})

describe('retention configuration', () => {
  it('refuses a retention period that ingest could replay into (the readings table is the dedupe index)', () => {
    expect(() => loadConfig({ VITALWIRE_RETENTION_DAYS: '20', VITALWIRE_MAX_AGE_DAYS: '30' })).toThrow(
      /VITALWIRE_RETENTION_DAYS must be greater than VITALWIRE_MAX_AGE_DAYS/,
    )
  })
})
