import type { Db } from './database.ts'

// Reading back what ingest kept aside (the journal writes dead letters with the readings they came with).

export interface StoredDeadLetter {
  receivedMs: number
  deviceId: string | null
  readingId: string | null
  code: string
  reason: string
  payload: Uint8Array | null
}

export function createSqliteDeadLetters(db: Db) {
  const columns = 'received_ms, device_id, reading_id, code, reason, payload'
  const all = db.prepare(
    `SELECT ${columns} FROM dead_letters WHERE received_ms >= ? ORDER BY id DESC LIMIT ?`,
  )
  const ofDevice = db.prepare(
    `SELECT ${columns} FROM dead_letters WHERE received_ms >= ? AND device_id = ? ORDER BY id DESC LIMIT ?`,
  )
  return {
    /** Newest first: since `sinceMs`, of one device or all, at most `limit`. */
    list(q: { sinceMs: number; deviceId?: string; limit: number }): StoredDeadLetter[] {
      const rows = (
        q.deviceId === undefined ? all.all(q.sinceMs, q.limit) : ofDevice.all(q.sinceMs, q.deviceId, q.limit)
      ) as {
        received_ms: number
        device_id: string | null
        reading_id: string | null
        code: string
        reason: string
        payload: Uint8Array | null
      }[]
      return rows.map((r) => ({
        receivedMs: r.received_ms,
        deviceId: r.device_id,
        readingId: r.reading_id,
        code: r.code,
        reason: r.reason,
        payload: r.payload,
      }))
    },
  }
}
