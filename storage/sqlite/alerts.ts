import type { Alert, AlertStatus } from '../../shared/alert.ts'
import type { AlertStore } from '../ports.ts'
import type { Db } from './database.ts'

// Alerts persist across restarts. One live (open or acknowledged) alert per patient and rule is
// enforced by a partial unique index, so dedupe holds even if two writers race.
// Writes are group-committed: inserts and updates queued in one event-loop turn share one transaction
// (one fsync under synchronous=FULL), and each caller's promise settles after that commit.

function createWriteQueue(db: Db) {
  let pending: { run: () => void; resolve: () => void; reject: (e: unknown) => void }[] = []
  function flush() {
    const batch = pending
    pending = []
    const failed = new Map<number, unknown>()
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
    }
    batch.forEach((w, i) => {
      if (failed.has(i)) w.reject(failed.get(i))
      else w.resolve()
    })
  }
  return (run: () => void) =>
    new Promise<void>((resolve, reject) => {
      pending.push({ run, resolve, reject })
      if (pending.length === 1) setImmediate(flush)
    })
}

export function createSqliteAlertStore(db: Db): AlertStore {
  const write = createWriteQueue(db)
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
  const byId = db.prepare('SELECT data FROM alerts WHERE id = ?')
  const snooze = db.prepare(
    'INSERT INTO alert_snoozes (alert_id, user_id, until_ms) VALUES (?, ?, ?) ON CONFLICT (alert_id, user_id) DO UPDATE SET until_ms = excluded.until_ms',
  )
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
    async allLive(): Promise<Alert[]> {
      return (allLive.all() as { data: string }[]).map((r) => JSON.parse(r.data))
    },
    async get(id: string): Promise<Alert | undefined> {
      return parse(byId.get(id) as { data: string } | undefined)
    },
    async list(q: { status?: AlertStatus; patientIds?: string[]; limit: number }): Promise<Alert[]> {
      const clauses: string[] = []
      const params: (string | number)[] = []
      if (q.status) {
        clauses.push('status = ?')
        params.push(q.status)
      }
      if (q.patientIds) {
        clauses.push(`patient_id IN (${q.patientIds.map(() => '?').join(',') || 'NULL'})`)
        params.push(...q.patientIds)
      }
      const sql = `SELECT data FROM alerts ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY updated_ms DESC LIMIT ?`
      return (db.prepare(sql).all(...params, q.limit) as { data: string }[]).map((r) => JSON.parse(r.data))
    },
    async snooze(alertId: string, userId: number, untilMs: number): Promise<void> {
      snooze.run(alertId, userId, untilMs)
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
