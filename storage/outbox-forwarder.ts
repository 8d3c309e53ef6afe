import type { StoredObservation } from '../shared/fhir.ts'
import type { Logger } from '../shared/logger.ts'
import type { Metrics } from '../shared/metrics.ts'
import type { Db } from './sqlite/database.ts'
import { arrayToObservation, READING_COLUMNS } from './sqlite/readings.ts'

// Forwards readings from the local outbox to InfluxDB. The journal commits each fresh reading to
// `readings` and its key to `outbox` in one transaction before PUBACK; this loop reads the oldest
// outbox rows joined to their readings, writes them in one request, and deletes those outbox rows only
// after InfluxDB confirmed (204). A crash between the write and the delete re-sends the batch, which
// overwrites the same points (idempotent), so delivery is at-least-once and storage exactly-once.
//
// Failures: network errors, 5xx and 429 are retried with exponential backoff and full jitter (never
// sooner than Retry-After); 401/403/404 are configuration faults, retried the same way and logged at
// error. A 4xx that blames the batch (400/413/422) is bisected down to the rejected reading(s), which go
// to dead_letters with InfluxDB's reason; the rest of the batch flows on, so one bad point never
// blocks the queue.

/** Where readings go; the InfluxDB ReadingStore in production. Errors carry a VW_ERR_STORAGE_* code. */
export interface ForwardSink {
  write(batch: StoredObservation[]): Promise<void>
  /** Whether it answers at all (InfluxDB's /ping): asked while nothing waits to be forwarded. */
  ping?(): Promise<void>
}

export interface ForwarderOptions {
  /** Readings per InfluxDB request: see docs/storage.md for why 5,000. */
  batchSize?: number
  /**
   * Requests in flight at once (default 2): InfluxDB parses each request on its own core, and while
   * one request is in InfluxDB the next is being built. Each batch settles on its own.
   */
  concurrency?: number
  /** Poll for new outbox rows this often when idle (wake() is the fast path). */
  idlePollMs?: number
  /**
   * While idle, ask the sink whether it answers this often (default 5 s), so that /readyz says InfluxDB
   * is down in a quiet hour too, when every history and FHIR read fails, not only once a reading waits.
   */
  probeMs?: number
  baseDelayMs?: number
  maxDelayMs?: number
  /** Report degraded while the oldest unforwarded reading is older than this. */
  degradedAfterMs?: number
  now?: () => number
  random?: () => number
}

export const DEFAULT_BATCH_SIZE = 5000

export interface ForwarderStatus {
  reachable: boolean
  backlog: number
  oldestAgeMs: number
  lastError?: string
}

/** [seq, ...READING_COLUMNS]; the reading's columns are null when the reading is gone. */
type OutboxRow = any[]

export function createOutboxForwarder(
  deps: { db: Db; sink: ForwardSink; log: Logger; metrics: Metrics },
  options: ForwarderOptions = {},
) {
  const log = deps.log.child({ component: 'outbox-forwarder' })
  const now = options.now ?? Date.now
  const random = options.random ?? Math.random
  const batchSize = options.batchSize ?? DEFAULT_BATCH_SIZE
  const concurrency = options.concurrency ?? 2
  const idlePollMs = options.idlePollMs ?? 250
  const probeMs = options.probeMs ?? 5000
  const baseDelayMs = options.baseDelayMs ?? 100
  const maxDelayMs = options.maxDelayMs ?? 5000
  const degradedAfterMs = options.degradedAfterMs ?? 2000

  // Rows as arrays [seq, ...READING_COLUMNS] (r.key is null for an orphan): half the cost of objects.
  const cols = READING_COLUMNS.split(', ')
    .map((c) => `r.${c}`)
    .join(', ')
  const select = deps.db.prepare(
    `SELECT o.seq, ${cols} FROM outbox o LEFT JOIN readings r ON r.key = o.key
     WHERE o.seq > ? ORDER BY o.seq LIMIT ?`,
  )
  select.setReturnArrays(true)
  // Every row in [first, last] was in the batch: later inserts get higher seq while ours still exist.
  const remove = deps.db.prepare('DELETE FROM outbox WHERE seq >= ? AND seq <= ?')
  const stats = deps.db.prepare('SELECT COUNT(*) AS n, MIN(enqueued_ms) AS oldest FROM outbox')
  const dead = deps.db.prepare(
    'INSERT INTO dead_letters (device_id, reading_id, code, reason, payload, received_ms) VALUES (?, ?, ?, ?, ?, ?)',
  )

  let stopping = false
  let loop: Promise<void> | undefined
  let wakeUp: (() => void) | undefined
  let reachable = true
  let lastError: string | undefined
  let failures = 0

  let statusAt = 0
  function status(): ForwarderStatus {
    statusAt = Date.now()
    const s = stats.get() as { n: number; oldest: number | null }
    const oldestAgeMs = s.oldest === null ? 0 : Math.max(0, now() - s.oldest)
    deps.metrics.outboxBacklog.set(s.n)
    deps.metrics.outboxAgeSeconds.set(oldestAgeMs / 1000)
    return { reachable, backlog: s.n, oldestAgeMs, lastError }
  }

  /** Resolves after `ms`, or at once on wake()/close(). */
  function pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms)
      function done() {
        clearTimeout(timer)
        wakeUp = undefined
        resolve()
      }
      wakeUp = done
    })
  }

  /** Write, bisecting on a rejected batch; returns the readings InfluxDB refused, with its reason. */
  async function send(batch: StoredObservation[]): Promise<{ o: StoredObservation; reason: string }[]> {
    try {
      await deps.sink.write(batch)
      return []
    } catch (e: any) {
      if (e?.code !== 'VW_ERR_STORAGE_REJECTED') throw e
      if (batch.length === 1) return [{ o: batch[0], reason: String(e.message) }]
      const mid = Math.ceil(batch.length / 2)
      return [...(await send(batch.slice(0, mid))), ...(await send(batch.slice(mid)))]
    }
  }

  function settle(rows: OutboxRow[], rejected: { o: StoredObservation; reason: string }[]) {
    deps.db.exec('BEGIN IMMEDIATE')
    try {
      for (const { o, reason } of rejected) {
        const readingId = o.key.startsWith(`${o.deviceId}:`) ? o.key.slice(o.deviceId.length + 1) : o.key
        const payload = Buffer.from(JSON.stringify(o))
        dead.run(o.deviceId, readingId, 'VW_ERR_STORAGE_REJECTED', reason, payload, o.receivedMs)
      }
      remove.run(rows[0][0], rows[rows.length - 1][0])
      deps.db.exec('COMMIT')
    } catch (e) {
      deps.db.exec('ROLLBACK')
      throw e
    }
  }

  function delayFor(e: any): number {
    const backoff = Math.min(maxDelayMs, baseDelayMs * 2 ** Math.min(failures - 1, 20))
    const jittered = random() * backoff
    return Math.max(jittered, Math.min(e?.retryAfterMs ?? 0, 60_000))
  }

  /** Send one batch of outbox rows and settle it: its rows leave the outbox only once InfluxDB has them. */
  async function forward(rows: OutboxRow[]): Promise<void> {
    const batch: StoredObservation[] = []
    for (const r of rows) if (r[1] !== null) batch.push(arrayToObservation(r, 1))
    if (batch.length < rows.length)
      log.error({ keys: rows.length - batch.length }, 'outbox rows without a reading dropped')
    const rejected = batch.length ? await send(batch) : []
    settle(rows, rejected)
    deps.metrics.forwarded.inc(batch.length - rejected.length)
    // InfluxDB's reason may quote the line (patient data): it goes to dead_letters, not to the log.
    for (const r of rejected)
      log.warn({ deviceId: r.o.deviceId, code: 'VW_ERR_STORAGE_REJECTED' }, 'reading dead-lettered')
  }

  /**
   * Forward until the outbox is empty or a batch fails, keeping `concurrency` batches in flight: as
   * soon as one settles the next is read and sent, so building a batch overlaps InfluxDB's work on
   * the others. Batches cover disjoint seq ranges, so each settles alone; one that failed is simply
   * still queued next time (a re-sent point overwrites itself).
   */
  async function step(): Promise<'idle' | 'busy' | 'retry'> {
    const inFlight = new Set<Promise<void>>()
    let after = 0
    let sent = 0
    let failed: { reason: unknown } | undefined
    for (;;) {
      while (!failed && !stopping && inFlight.size < concurrency) {
        const rows = select.all(after, batchSize) as unknown as OutboxRow[]
        if (rows.length === 0) break
        after = rows[rows.length - 1][0]
        sent++
        const p: Promise<void> = forward(rows)
          .catch((reason) => {
            failed ??= { reason }
          })
          .finally(() => inFlight.delete(p))
        inFlight.add(p)
      }
      if (inFlight.size === 0) break
      await Promise.race(inFlight)
      // A long drain is one step: keep the backlog metrics moving meanwhile.
      if (Date.now() - statusAt >= 1000) status()
    }
    if (!failed) {
      if (sent === 0) return 'idle'
      if (!reachable) log.info({ failures }, 'InfluxDB reachable again; forwarding')
      reachable = true
      failures = 0
      lastError = undefined
      return 'busy'
    }
    const e = failed.reason as any
    failures++
    reachable = false
    lastError = `${e?.code ?? 'error'}: ${e?.message ?? e}`
    const delayMs = delayFor(e)
    const level = e?.code === 'VW_ERR_STORAGE_CONFIG' ? 'error' : failures === 1 ? 'warn' : 'debug'
    log[level]({ code: e?.code, err: e?.message, failures, delayMs }, 'forwarding failed; will retry')
    await pause(delayMs)
    return 'retry'
  }

  /** While idle: does the sink answer? A failed probe is an outage like a failed write. */
  let probedAt = Number.NEGATIVE_INFINITY
  async function probe() {
    if (!deps.sink.ping || Date.now() - probedAt < probeMs) return
    probedAt = Date.now()
    try {
      await deps.sink.ping()
      if (!reachable) log.info('InfluxDB answers again')
      reachable = true
      lastError = undefined
    } catch (e: any) {
      if (reachable) log.warn({ code: e?.code, err: e?.message }, 'InfluxDB does not answer')
      reachable = false
      lastError = `${e?.code ?? 'error'}: ${e?.message ?? e}`
    }
  }

  async function run() {
    while (!stopping) {
      let outcome: Awaited<ReturnType<typeof step>>
      try {
        outcome = await step()
      } catch (e) {
        // Local (SQLite) trouble: never let the loop die.
        log.error({ err: e }, 'outbox forwarder step failed')
        outcome = 'retry'
        await pause(maxDelayMs)
      }
      if (outcome === 'idle' && !stopping) await probe()
      status()
      if (outcome === 'idle' && !stopping) await pause(idlePollMs)
    }
  }

  return {
    start() {
      if (!loop) loop = run()
    },
    /** New rows are in the outbox: stop waiting for the idle poll. */
    wake() {
      if (failures === 0) wakeUp?.()
    },
    status,
    /** A health check: ok (ready) always; degraded when InfluxDB is unreachable or a backlog drains. */
    check(): { ok: boolean; degraded: boolean; detail?: string } {
      const s = status()
      const degraded = !s.reachable || s.oldestAgeMs > degradedAfterMs
      // Wrong credentials or a missing database is not an outage: say which, so the fix is obvious.
      const why = s.reachable
        ? 'draining'
        : s.lastError?.startsWith('VW_ERR_STORAGE_CONFIG')
          ? 'InfluxDB refuses the configured credentials or database, or INFLUX_URL is not an InfluxDB (INFLUX_*)'
          : 'InfluxDB unreachable'
      const detail = degraded
        ? `${why}: ${s.backlog} ${s.backlog === 1 ? 'reading' : 'readings'} queued, oldest ${Math.round(s.oldestAgeMs / 1000)} s`
        : undefined
      return { ok: true, degraded, detail }
    },
    async close() {
      stopping = true
      wakeUp?.()
      await loop
    },
  }
}

export type OutboxForwarder = ReturnType<typeof createOutboxForwarder>
