import type { StoredObservation } from '../../shared/fhir.ts'
import type { Db } from './database.ts'
import { rowToObservation } from './readings.ts'

// The worklist's read path: which reading is the latest per patient and type (a small index table kept
// in the commit transaction), and the readings themselves by key. A stored reading never changes (the
// key is the idempotency key, inserted once), so callers may cache what getByKeys returns forever.

const CHUNK = 500

export function createSqliteLatestIndex(db: Db) {
  const all = db.prepare('SELECT patient_id, type, key FROM latest_readings')
  return {
    async latestKeys(patientIds?: string[]): Promise<{ patientId: string; type: string; key: string }[]> {
      const rows: any[] = []
      if (!patientIds) rows.push(...all.all())
      for (let i = 0; patientIds && i < patientIds.length; i += CHUNK) {
        const part = patientIds.slice(i, i + CHUNK)
        rows.push(
          ...db
            .prepare(
              `SELECT patient_id, type, key FROM latest_readings WHERE patient_id IN (${part.map(() => '?').join(',')})`,
            )
            .all(...part),
        )
      }
      return rows.map((r) => ({ patientId: r.patient_id, type: r.type, key: r.key }))
    },
    async getByKeys(keys: string[]): Promise<StoredObservation[]> {
      const out: StoredObservation[] = []
      for (let i = 0; i < keys.length; i += CHUNK) {
        const part = keys.slice(i, i + CHUNK)
        const rows = db
          .prepare(`SELECT * FROM readings WHERE key IN (${part.map(() => '?').join(',')})`)
          .all(...part) as Parameters<typeof rowToObservation>[0][]
        out.push(...rows.map(rowToObservation))
      }
      return out
    },
  }
}

export type LatestIndex = ReturnType<typeof createSqliteLatestIndex>
