import { DAILY_TOTAL, VITAL_TYPES } from '../../shared/catalog.ts'
import { decodeCursor, encodeCursor } from '../../shared/cursor.ts'
import { idTimeMs, type StoredObservation } from '../../shared/fhir.ts'
import type { ReadingPage, ReadingQuery, ReadingStore } from '../ports.ts'
import type { Db } from './database.ts'

// Embedded readings adapter. Rows are keyed by the idempotency key and hold every fact of the
// reading's Observation (shared/fhir.ts renders the resource from them on read).

type Row = {
  key: string
  id: string
  patient_id: string
  device_id: string
  type: string
  effective_ms: number
  received_ms: number
  vals: string
  effective: string
  flags: string | null
  out_of_range: 'L' | 'H' | null
}

export function rowToObservation(r: Row): StoredObservation {
  return observation(
    r.key,
    r.id,
    r.patient_id,
    r.device_id,
    r.type,
    r.effective_ms,
    r.received_ms,
    r.vals,
    r.effective,
    r.flags,
    r.out_of_range,
  )
}

/** The reading columns, in the order `arrayToObservation` reads them from a row returned as an array. */
export const READING_COLUMNS =
  'key, id, patient_id, device_id, type, effective_ms, received_ms, vals, effective, flags, out_of_range'

/**
 * A row of READING_COLUMNS (from a statement with setReturnArrays(true)), starting at index `at`:
 * half the cost of an object row, for the outbox forwarder's bulk reads.
 */
export function arrayToObservation(a: any[], at: number): StoredObservation {
  return observation(
    a[at],
    a[at + 1],
    a[at + 2],
    a[at + 3],
    a[at + 4],
    a[at + 5],
    a[at + 6],
    a[at + 7],
    a[at + 8],
    a[at + 9],
    a[at + 10],
  )
}

function observation(
  key: string,
  id: string,
  patientId: string,
  deviceId: string,
  type: string,
  effectiveMs: number,
  receivedMs: number,
  vals: string,
  effective: string,
  flags: string | null,
  outOfRange: 'L' | 'H' | null,
): StoredObservation {
  const o: StoredObservation = {
    id,
    key,
    patientId,
    deviceId,
    type: type as StoredObservation['type'],
    effectiveMs,
    receivedMs,
    values: JSON.parse(vals),
    effective,
    flags: flags ? flags.split(',') : [],
  }
  if (outOfRange) o.outOfRange = outOfRange
  return o
}

export const INSERT_READING_SQL = `INSERT OR IGNORE INTO readings
  (key, id, patient_id, device_id, type, effective_ms, received_ms, vals, effective, flags, out_of_range)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`

export const UPSERT_LATEST_SQL = `INSERT INTO latest_readings (patient_id, type, key, effective_ms) VALUES (?, ?, ?, ?)
  ON CONFLICT (patient_id, type) DO UPDATE SET key = excluded.key, effective_ms = excluded.effective_ms
  WHERE excluded.effective_ms >= latest_readings.effective_ms`

export function readingParams(o: StoredObservation) {
  return [
    o.key,
    o.id,
    o.patientId,
    o.deviceId,
    o.type,
    o.effectiveMs,
    o.receivedMs,
    JSON.stringify(o.values),
    o.effective,
    o.flags.length ? o.flags.join(',') : null,
    o.outOfRange ?? null,
  ] as const
}

const cursorAt = (o: { effectiveMs: number; id: string }) => encodeCursor(o.effectiveMs, o.id)

function where(q: Omit<ReadingQuery, 'sort' | 'limit' | 'after'>) {
  const clauses: string[] = []
  const params: (string | number)[] = []
  if (q.patientIds) {
    clauses.push(`patient_id IN (${q.patientIds.map(() => '?').join(',') || 'NULL'})`)
    params.push(...q.patientIds)
  }
  if (q.types) {
    clauses.push(`type IN (${q.types.map(() => '?').join(',') || 'NULL'})`)
    params.push(...q.types)
  }
  if (q.steps) {
    // flags is a comma-separated list or NULL.
    const daily = `instr(',' || flags || ',', ',${DAILY_TOTAL},') > 0`
    clauses.push(`(type <> 'steps' OR ${q.steps === 'daily' ? daily : `flags IS NULL OR NOT ${daily}`})`)
  }
  if (q.fromMs !== undefined) {
    clauses.push(q.fromExclusive ? 'effective_ms > ?' : 'effective_ms >= ?')
    params.push(q.fromMs)
  }
  if (q.toMs !== undefined) {
    clauses.push(q.toExclusive ? 'effective_ms < ?' : 'effective_ms <= ?')
    params.push(q.toMs)
  }
  return { clauses, params }
}

/** Above this many (patient, type) pairs a search is one query that SQLite plans by itself. */
const MAX_SEEKS = 64

export function createSqliteReadingStore(db: Db): ReadingStore {
  const insert = db.prepare(INSERT_READING_SQL)
  const latest = db.prepare(UPSERT_LATEST_SQL)
  const byId = rowById<Row>(db, READING_COLUMNS)
  const after = db.prepare(
    `SELECT rowid AS seq, ${READING_COLUMNS} FROM readings WHERE rowid > ? ORDER BY rowid LIMIT ?`,
  )
  return {
    async committedAfter(seq: number, limit: number): Promise<StoredObservation[]> {
      return (after.all(seq, limit) as (Row & { seq: number })[]).map((r) => ({
        ...rowToObservation(r),
        seq: r.seq,
      }))
    },
    async write(batch) {
      db.exec('BEGIN IMMEDIATE')
      try {
        for (const o of batch) {
          if (insert.run(...readingParams(o)).changes > 0)
            latest.run(o.patientId, o.type, o.key, o.effectiveMs)
        }
        db.exec('COMMIT')
      } catch (e) {
        db.exec('ROLLBACK')
        throw e
      }
    },
    cursorAt,
    async search(q): Promise<ReadingPage> {
      const cursor = q.after ? decodeCursor(q.after) : undefined
      const dir = q.sort === 'asc' ? 'ASC' : 'DESC'
      const order = `ORDER BY effective_ms ${dir}, id ${dir}`
      const ranged = (query: Omit<ReadingQuery, 'sort' | 'limit' | 'after'>) => {
        const { clauses, params } = where(query)
        if (cursor) {
          // Keyset paging on (effective_ms, id): constant cost however deep the page.
          clauses.push(q.sort === 'asc' ? '(effective_ms, id) > (?, ?)' : '(effective_ms, id) < (?, ?)')
          params.push(cursor.ms, cursor.id)
        }
        return {
          sql: `SELECT * FROM readings ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''}`,
          params,
        }
      }
      const types = q.types ?? VITAL_TYPES
      let rows: Row[]
      if (q.patientIds && q.patientIds.length * types.length <= MAX_SEEKS) {
        // One seek per patient and type on (patient_id, type, effective_ms, id), each already in
        // order and cut at the page size, then one small merge: fast at any depth of any history.
        const parts = q.patientIds.flatMap((p) =>
          types.map((t) => ranged({ ...q, patientIds: [p], types: [t] })),
        )
        if (parts.length === 0) return { items: [] }
        const sql = `${parts.map((x) => `SELECT * FROM (${x.sql} ${order} LIMIT ?)`).join(' UNION ALL ')} ${order} LIMIT ?`
        const params = parts.flatMap((x) => [...x.params, q.limit + 1])
        rows = db.prepare(sql).all(...params, q.limit + 1) as Row[]
      } else {
        const x = ranged(q)
        rows = db.prepare(`${x.sql} ${order} LIMIT ?`).all(...x.params, q.limit + 1) as Row[]
      }
      const items = rows.slice(0, q.limit).map(rowToObservation)
      return { items, next: rows.length > q.limit ? cursorAt(items[items.length - 1]) : undefined }
    },
    async count(q) {
      const { clauses, params } = where(q)
      const sql = `SELECT COUNT(*) AS n FROM readings ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''}`
      return (db.prepare(sql).get(...params) as { n: number }).n
    },
    async latest(patientIds) {
      if (patientIds.length === 0) return []
      const rows = db
        .prepare(
          `SELECT r.* FROM latest_readings l JOIN readings r ON r.key = l.key
           WHERE l.patient_id IN (${patientIds.map(() => '?').join(',')})`,
        )
        .all(...patientIds) as Row[]
      return rows.map(rowToObservation)
    },
    async get(id) {
      const r = byId(id)
      return r ? rowToObservation(r) : undefined
    },
    async close() {},
  }
}

/**
 * A reading by its Observation id. There is no index on ids (migration 4): an id starts with its
 * effective time, so the row is one seek on readings_time (effective_ms, id). Ids written before
 * they started with the time are found through reading_legacy_ids.
 */
function rowById<T>(db: Db, columns: string): (id: string) => T | undefined {
  const byTime = db.prepare(`SELECT ${columns} FROM readings WHERE effective_ms = ? AND id = ?`)
  const legacyKey = db.prepare('SELECT key FROM reading_legacy_ids WHERE id = ?')
  const byKey = db.prepare(`SELECT ${columns} FROM readings WHERE key = ?`)
  return (id) => {
    const ms = idTimeMs(id)
    const row = ms !== undefined ? byTime.get(ms, id) : undefined
    if (row) return row as T
    const legacy = legacyKey.get(id) as { key: string } | undefined
    return legacy ? (byKey.get(legacy.key) as T | undefined) : undefined
  }
}

/** Where a reading's InfluxDB point lives, from the local index (for the InfluxDB adapter's get). */
export function createSqliteLocator(db: Db) {
  const byId = rowById<Pick<Row, 'key' | 'patient_id' | 'device_id' | 'type' | 'effective_ms'>>(
    db,
    'key, patient_id, device_id, type, effective_ms',
  )
  return async (id: string) => {
    const r = byId(id)
    if (!r) return undefined
    return {
      key: r.key,
      patientId: r.patient_id,
      deviceId: r.device_id,
      type: r.type as StoredObservation['type'],
      effectiveMs: r.effective_ms,
    }
  }
}
