import cron from 'node-cron'
import type { Logger } from '../shared/logger.ts'
import type { Db } from './sqlite/database.ts'

// Retention for the embedded store: readings whose effective time is older than the retention period
// are deleted, in small transactions so the journal (and so PUBACK latency) never waits long for the
// write lock. A reading still in the outbox is never pruned: it has not reached InfluxDB yet.
// The readings table is also the dedupe index, so retention must exceed the ingest age limit
// (config validation enforces it): a replay older than the age limit is rejected before dedupe.

export const RETENTION_CHUNK = 2000
/** Daily at 03:17 local time: off the hour, when most fleets are quiet. */
export const RETENTION_SCHEDULE = '17 3 * * *'

export interface PruneResult {
  deleted: number
  keptInOutbox: number
}

export async function pruneReadings(
  db: Db,
  opts: { retentionMs: number; nowMs?: number },
): Promise<PruneResult> {
  const cutoff = (opts.nowMs ?? Date.now()) - opts.retentionMs
  const chunk = db.prepare(
    `DELETE FROM readings WHERE rowid IN (
       SELECT rowid FROM readings WHERE effective_ms < ? AND key NOT IN (SELECT key FROM outbox) LIMIT ?)`,
  )
  let deleted = 0
  for (;;) {
    const n = Number(chunk.run(cutoff, RETENTION_CHUNK).changes)
    deleted += n
    if (n < RETENTION_CHUNK) break
    // Let queued group commits run between chunks.
    await new Promise((r) => setImmediate(r))
  }
  db.prepare(
    'DELETE FROM latest_readings WHERE effective_ms < ? AND key NOT IN (SELECT key FROM readings)',
  ).run(cutoff)
  // Ids of readings written before ids started with their time (migration 4) go with their readings.
  db.prepare('DELETE FROM reading_legacy_ids WHERE key NOT IN (SELECT key FROM readings)').run()
  const kept = db
    .prepare('SELECT COUNT(*) AS n FROM readings WHERE effective_ms < ? AND key IN (SELECT key FROM outbox)')
    .get(cutoff) as { n: number }
  return { deleted, keptInOutbox: kept.n }
}

/** Prune on a daily node-cron schedule; returns the closer for main.ts. */
export function scheduleRetention(deps: { db: Db; log: Logger; retentionMs: number }): () => Promise<void> {
  const log = deps.log.child({ component: 'retention' })
  let running: Promise<unknown> | undefined
  const task = cron.schedule(RETENTION_SCHEDULE, () => {
    if (running) return
    running = pruneReadings(deps.db, { retentionMs: deps.retentionMs })
      .then((r) => log.info(r, 'readings pruned'))
      .catch((err) => log.error({ err }, 'retention failed'))
      .finally(() => {
        running = undefined
      })
  })
  return async () => {
    await task.stop()
    await running
  }
}
