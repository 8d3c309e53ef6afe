import type { StoredObservation } from '../../shared/fhir.ts'
import type { DeadLetter, Journal } from '../ports.ts'
import type { Db } from './database.ts'
import { INSERT_READING_SQL, readingParams, UPSERT_LATEST_SQL } from './readings.ts'

// Durable acceptance with group commit: every entry submitted in one event-loop turn shares one
// transaction (synchronous=FULL), and each caller hears back only after that transaction is on disk.
// The broker calls this from authorizePublish, so a PUBACK always follows a commit.

interface Pending {
  entry: { accepted: StoredObservation[]; deadLetters: DeadLetter[] }
  resolve: (r: { fresh: StoredObservation[] }) => void
  reject: (e: unknown) => void
}

export interface JournalOptions {
  /** Also queue fresh readings for the InfluxDB forwarder. */
  outbox: boolean
  /** Flush at once when this many entries wait, without waiting for the turn to end. */
  maxBatch?: number
  now?: () => number
}

export function createSqliteJournal(db: Db, options: JournalOptions): Journal & { committed: () => number } {
  const insert = db.prepare(INSERT_READING_SQL)
  const latest = db.prepare(UPSERT_LATEST_SQL)
  const outbox = db.prepare('INSERT INTO outbox (key, enqueued_ms) VALUES (?, ?)')
  const dead = db.prepare(
    'INSERT INTO dead_letters (device_id, reading_id, code, reason, payload, received_ms) VALUES (?, ?, ?, ?, ?, ?)',
  )
  const now = options.now ?? Date.now
  const maxBatch = options.maxBatch ?? 1000
  let queue: Pending[] = []
  let scheduled = false
  let transactions = 0

  function flush() {
    scheduled = false
    const batch = queue
    queue = []
    if (batch.length === 0) return
    const results: StoredObservation[][] = []
    try {
      db.exec('BEGIN IMMEDIATE')
      const t = now()
      // The newest reading per patient and type in this batch: one upsert each instead of one per row.
      const newest = new Map<string, StoredObservation>()
      for (const p of batch) {
        const fresh: StoredObservation[] = []
        for (const o of p.entry.accepted) {
          // INSERT OR IGNORE on the idempotency key: a replay changes nothing and is not "fresh".
          if (insert.run(...readingParams(o)).changes === 0) continue
          const slot = `${o.patientId}\u0000${o.type}`
          const prev = newest.get(slot)
          if (!prev || o.effectiveMs >= prev.effectiveMs) newest.set(slot, o)
          if (options.outbox) outbox.run(o.key, t)
          fresh.push(o)
        }
        for (const d of p.entry.deadLetters)
          dead.run(d.deviceId, d.readingId, d.code, d.reason, d.payload, d.receivedMs)
        results.push(fresh)
      }
      for (const o of newest.values()) latest.run(o.patientId, o.type, o.key, o.effectiveMs)
      db.exec('COMMIT')
      transactions++
    } catch (e) {
      try {
        db.exec('ROLLBACK')
      } catch {}
      for (const p of batch) p.reject(e)
      return
    }
    for (const [i, p] of batch.entries()) p.resolve({ fresh: results[i] })
  }

  return {
    commit(entry) {
      return new Promise((resolve, reject) => {
        queue.push({ entry, resolve, reject })
        if (queue.length >= maxBatch) flush()
        else if (!scheduled) {
          scheduled = true
          setImmediate(flush)
        }
      })
    },
    async flush() {
      flush()
    },
    committed: () => transactions,
  }
}
