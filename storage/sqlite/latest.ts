import type { StoredObservation } from '../../shared/fhir.ts'
import type { Db } from './database.ts'
import { rowToObservation } from './readings.ts'

// The worklist's read path. The dashboard keeps the worklist in memory and asks this, once per request,
// only what changed since it last looked, so any commit (this process's ingest, another process's, a
// retention run) shows on the next request without re-reading 5,000 latest readings each time.
//
// readings is a rowid table that is only ever appended to (INSERT OR IGNORE) and pruned by retention, so
// rowid order is commit order: "rowid > cursor" is every reading committed since. latest_readings holds
// the latest per patient and type (kept in the commit transaction); applying the new readings in rowid
// order with the same ">=" rule reproduces it. What appending cannot explain is a deletion: retention
// removing a latest reading (latest_readings shrinks) or the cursor's own row (its rowid could be
// reused). Either one asks the caller to reload everything.

/** Where a reader stands in the readings table: the last rowid it has seen, and that row's key. */
export interface ReadingsCursor {
  rowid: number
  key: string | undefined
}

export type LatestChanges =
  | { kind: 'reload' }
  | { kind: 'append'; cursor: ReadingsCursor; latestCount: number; observations: StoredObservation[] }

type ReadingRow = Parameters<typeof rowToObservation>[0] & { rid: number }

/** More new readings than this since the last look: reloading the latest ones is cheaper. */
const MAX_APPEND = 20_000

export function createSqliteLatestIndex(db: Db) {
  const latest = db.prepare(
    'SELECT r.rowid AS rid, r.* FROM latest_readings l JOIN readings r ON r.key = l.key',
  )
  const head = db.prepare('SELECT rowid AS rid, key FROM readings ORDER BY rowid DESC LIMIT 1')
  const keyAt = db.prepare('SELECT key FROM readings WHERE rowid = ?')
  const since = db.prepare('SELECT rowid AS rid, * FROM readings WHERE rowid > ? ORDER BY rowid LIMIT ?')
  const count = db.prepare('SELECT COUNT(*) AS n FROM latest_readings')
  const live = db.prepare("SELECT patient_id, severity FROM alerts WHERE status IN ('open', 'acknowledged')")

  // One snapshot for several statements, whether or not the connection is already in a transaction.
  function snapshot<T>(fn: () => T): T {
    db.exec('SAVEPOINT worklist_read')
    try {
      return fn()
    } finally {
      db.exec('RELEASE worklist_read')
    }
  }

  return {
    /** The latest reading per patient and type, and the cursor to ask `changesSince` from. */
    async latest(): Promise<{ cursor: ReadingsCursor; observations: StoredObservation[] }> {
      return snapshot(() => {
        const h = head.get() as { rid: number; key: string } | undefined
        const rows = latest.all() as ReadingRow[]
        return { cursor: { rowid: h?.rid ?? 0, key: h?.key }, observations: rows.map(rowToObservation) }
      })
    },
    /** Readings committed after `cursor` (in commit order), or `reload` if something was deleted. */
    async changesSince(cursor: ReadingsCursor, latestCount: number): Promise<LatestChanges> {
      return snapshot((): LatestChanges => {
        const at = cursor.rowid ? (keyAt.get(cursor.rowid) as { key: string } | undefined) : undefined
        if (at?.key !== cursor.key) return { kind: 'reload' }
        const rows = since.all(cursor.rowid, MAX_APPEND + 1) as ReadingRow[]
        if (rows.length > MAX_APPEND) return { kind: 'reload' }
        const n = (count.get() as { n: number }).n
        // New (patient, type) pairs each add one row; anything else means retention removed some.
        if (rows.length === 0 && n === latestCount)
          return { kind: 'append', cursor, latestCount, observations: [] }
        const last = rows.at(-1)
        return {
          kind: 'append',
          cursor: last ? { rowid: last.rid, key: last.key } : cursor,
          latestCount: n,
          observations: rows.map(rowToObservation),
        }
      })
    },
    /** Live (open or acknowledged) alerts, only what the worklist counts: patient and severity. */
    async liveAlerts(): Promise<{ patientId: string; severity: string }[]> {
      return (live.all() as { patient_id: string; severity: string }[]).map((r) => ({
        patientId: r.patient_id,
        severity: r.severity,
      }))
    },
  }
}

export type LatestIndex = ReturnType<typeof createSqliteLatestIndex>
