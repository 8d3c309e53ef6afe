import type { Alert, AlertStatus } from '../../shared/alert.ts'
import type { AlertStore } from '../ports.ts'
import { backgroundSyncWal, type Db, datasyncFile } from './database.ts'

// Alerts persist across restarts. One live (open or acknowledged) alert per patient and rule is
// enforced by a partial unique index, so dedupe holds even if two writers race.
// Writes are group-committed: inserts and updates queued in one event-loop turn share one transaction,
// and each caller's promise settles after that transaction is on disk. On a file-backed connection
// that syncs on commit (the server's, synchronous=FULL) the transaction commits without the sync
// (synchronous=NORMAL for it alone: its frames are written, safe from a process crash) and the WAL is
// then fdatasynced on libuv's thread pool before the callers hear back, as the journal and the audit
// log do: with many patients in alert, a breaching reading updates its alert, and a sync per turn on
// the event loop would hold up every device's PUBACK behind the disk.

export interface AlertStoreOptions {
  /**
   * Sync the connection's WAL. The server passes one that keeps the file open (createFileSyncer, closed
   * with the storage); a test passes one that holds or fails, which a real disk cannot be made to do.
   * Default: open, sync and close the WAL each time.
   */
  syncWal?: () => Promise<void>
}

function createWriteQueue(db: Db, options: AlertStoreOptions) {
  const background = backgroundSyncWal(db)
  const syncWal = options.syncWal ?? (() => datasyncFile((background as { wal: string }).wal))
  let pending: { run: () => void; resolve: () => void; reject: (e: unknown) => void }[] = []
  function flush() {
    const batch = pending
    pending = []
    const failed = new Map<number, unknown>()
    if (background) db.exec('PRAGMA synchronous = NORMAL')
    try {
      db.exec('BEGIN IMMEDIATE')
      batch.forEach((w, i) => {
        try {
          w.run()
        } catch (e) {
          // A failing statement (e.g. the one-live-alert index) is rolled back alone; the rest commit.
          failed.set(i, e)
        }
      })
      db.exec('COMMIT')
    } catch (e) {
      if (db.isTransaction) db.exec('ROLLBACK')
      for (const w of batch) w.reject(e)
      return
    } finally {
      if (background) db.exec(`PRAGMA synchronous = ${background.synchronous}`)
    }
    const settle = () =>
      batch.forEach((w, i) => {
        if (failed.has(i)) w.reject(failed.get(i))
        else w.resolve()
      })
    if (!background) return settle()
    // One sync per batch; the disk is not known to hold the batch until it returns.
    syncWal().then(settle, (e) => {
      const err = new Error('alert changes could not be synced to disk', { cause: e })
      for (const w of batch) w.reject(err)
    })
  }
  return (run: () => void) =>
    new Promise<void>((resolve, reject) => {
      pending.push({ run, resolve, reject })
      if (pending.length === 1) setImmediate(flush)
    })
}

export function createSqliteAlertStore(db: Db, options: AlertStoreOptions = {}): AlertStore {
  const write = createWriteQueue(db, options)
  const parse = (r: { data: string } | undefined): Alert | undefined => (r ? JSON.parse(r.data) : undefined)
  const insertStmt = db.prepare(
    'INSERT INTO alerts (id, patient_id, rule, severity, status, opened_ms, updated_ms, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
  )
  const updateStmt = db.prepare(
    'UPDATE alerts SET severity = ?, status = ?, updated_ms = ?, data = ? WHERE id = ?',
  )
  const live = db.prepare(
    "SELECT data FROM alerts WHERE patient_id = ? AND rule = ? AND status != 'resolved'",
  )
  const allLive = db.prepare("SELECT data FROM alerts WHERE status != 'resolved' ORDER BY opened_ms")
  const lastResolved = db.prepare(
    "SELECT data FROM alerts WHERE patient_id = ? AND rule = ? AND status = 'resolved' ORDER BY updated_ms DESC LIMIT 1",
  )
  const byId = db.prepare('SELECT data FROM alerts WHERE id = ?')
  const snooze = db.prepare(
    'INSERT INTO alert_snoozes (alert_id, user_id, until_ms) VALUES (?, ?, ?) ON CONFLICT (alert_id, user_id) DO UPDATE SET until_ms = excluded.until_ms',
  )
  const endSnoozes = db.prepare('DELETE FROM alert_snoozes WHERE alert_id = ?')
  const progress = db.prepare('SELECT evaluated_seq FROM alert_progress WHERE id = 1')
  const setProgress = db.prepare('UPDATE alert_progress SET evaluated_seq = ? WHERE id = 1')
  const snoozes = db.prepare(
    'SELECT alert_id, until_ms FROM alert_snoozes WHERE user_id = ? AND until_ms > ?',
  )
  return {
    insert(a: Alert): Promise<void> {
      const data = JSON.stringify(a)
      return write(() =>
        insertStmt.run(
          a.id,
          a.patientId,
          a.rule,
          a.severity,
          a.status,
          Date.parse(a.openedAt),
          Date.parse(a.updatedAt),
          data,
        ),
      )
    },
    update(a: Alert): Promise<void> {
      const data = JSON.stringify(a)
      return write(() => updateStmt.run(a.severity, a.status, Date.parse(a.updatedAt), data, a.id))
    },
    async live(patientId: string, rule: string): Promise<Alert | undefined> {
      return parse(live.get(patientId, rule) as { data: string } | undefined)
    },
    async lastResolved(patientId: string, rule: string): Promise<Alert | undefined> {
      return parse(lastResolved.get(patientId, rule) as { data: string } | undefined)
    },
    async allLive(): Promise<Alert[]> {
      return (allLive.all() as { data: string }[]).map((r) => JSON.parse(r.data))
    },
    async get(id: string): Promise<Alert | undefined> {
      return parse(byId.get(id) as { data: string } | undefined)
    },
    async list(q: {
      status?: AlertStatus
      patientIds?: string[]
      limit: number
      changedAfter?: { updatedMs: number; id: string }
    }): Promise<Alert[]> {
      const clauses: string[] = []
      const params: (string | number)[] = []
      if (q.changedAfter) {
        clauses.push('(updated_ms > ? OR (updated_ms = ? AND id > ?))')
        params.push(q.changedAfter.updatedMs, q.changedAfter.updatedMs, q.changedAfter.id)
      }
      if (q.status) {
        clauses.push('status = ?')
        params.push(q.status)
      }
      if (q.patientIds) {
        clauses.push(`patient_id IN (${q.patientIds.map(() => '?').join(',') || 'NULL'})`)
        params.push(...q.patientIds)
      }
      const order = q.changedAfter ? 'updated_ms ASC, id ASC' : 'updated_ms DESC'
      const sql = `SELECT data FROM alerts ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ?`
      return (db.prepare(sql).all(...params, q.limit) as { data: string }[]).map((r) => JSON.parse(r.data))
    },
    async snooze(alertId: string, userId: number, untilMs: number): Promise<void> {
      snooze.run(alertId, userId, untilMs)
    },
    endSnoozes(alertId: string): Promise<void> {
      return write(() => endSnoozes.run(alertId))
    },
    async evaluatedThrough(): Promise<number | undefined> {
      return (progress.get() as { evaluated_seq: number } | undefined)?.evaluated_seq
    },
    setEvaluatedThrough(seq: number): Promise<void> {
      return write(() => setProgress.run(seq))
    },
    /** Alert ids this user has snoozed, with the time each snooze ends. */
    async snoozedBy(userId: number, nowMs: number): Promise<Map<string, number>> {
      return new Map(
        (snoozes.all(userId, nowMs) as { alert_id: string; until_ms: number }[]).map((r) => [
          r.alert_id,
          r.until_ms,
        ]),
      )
    },
  }
}
