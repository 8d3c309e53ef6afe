import type { StoredObservation } from '../../shared/fhir.ts'
import type { DeadLetter, Journal } from '../ports.ts'
import { createFileSyncer, type Db } from './database.ts'
import { INSERT_READING_SQL, readingParams, UPSERT_LATEST_SQL } from './readings.ts'

// Durable acceptance with group commit: every entry submitted in one event-loop turn (or, while the
// previous transaction's sync is in flight, until that sync returns) shares one transaction, and each
// caller hears back only after that transaction is on disk. The broker calls this from
// authorizePublish, so a PUBACK always follows a commit that survives a power cut.
//
// Two ways to be on disk:
// - `walSync` absent: the connection runs synchronous=FULL, so COMMIT itself fsyncs (simple; the CLI
//   and tests on `:memory:` use this).
// - `walSync` given (the server): the journal has its own connection with synchronous=NORMAL, so
//   COMMIT only write()s the WAL frames (safe from a process crash, not yet from a power cut), and the
//   journal then fdatasyncs the WAL file on libuv's thread pool before resolving. The event loop is
//   never blocked on the disk, and while one fdatasync runs the next transaction gathers; one sync
//   covers every transaction committed before it started. This is PostgreSQL's WAL-writer pattern,
//   with SQLite's WAL as the log.

interface Pending {
  entry: { accepted: StoredObservation[]; deadLetters: DeadLetter[] }
  resolve: (r: Result) => void
  reject: (e: unknown) => void
}

type Result = { fresh: StoredObservation[]; conflicts: StoredObservation[] }
type StoredRow = {
  type: string
  effective_ms: number
  vals: string
  flags: string | null
  out_of_range: string | null
}

const FROM_RECEIPT = 'time-from-receipt'

/**
 * The stored row is this reading again (a replay): same type, same values, the same LO/HI and flags (a
 * glucometer's LO and HI have no value, and steps differ from a day's total only by the flag), and the
 * same instant, unless the device sent no time (then each delivery is timed at its receipt, and a
 * resend differs).
 */
function sameReading(row: StoredRow, o: StoredObservation): boolean {
  const stored = row.flags ? row.flags.split(',') : []
  const untimed = o.flags.includes(FROM_RECEIPT) || stored.includes(FROM_RECEIPT)
  // Flags other than the receipt timing, which the line above already allows for.
  const said = (flags: string[]) => flags.filter((f) => f !== FROM_RECEIPT).join(',')
  return (
    row.type === o.type &&
    row.vals === JSON.stringify(o.values) &&
    (row.out_of_range ?? undefined) === (o.outOfRange ?? undefined) &&
    said(stored) === said(o.flags) &&
    (untimed || row.effective_ms === o.effectiveMs)
  )
}

export interface WalSync {
  /** The database's `-wal` file. */
  walPath: string
  /** fdatasync; injectable only so a test can make the disk fail, which it cannot provoke for real. */
  fdatasync?: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void
}

export interface JournalOptions {
  /** Also queue fresh readings for the InfluxDB forwarder. */
  outbox: boolean
  /** Flush at once when this many entries wait, without waiting for the turn to end. */
  maxBatch?: number
  /** Sync the WAL asynchronously (the connection must run synchronous=NORMAL in WAL mode). */
  walSync?: WalSync
  /** Called once, when a failed sync makes the journal refuse everything from then on. */
  onFailure?: (err: Error) => void
  now?: () => number
}

export function createSqliteJournal(
  db: Db,
  options: JournalOptions,
): Journal & {
  committed: () => number
  /** Why the journal refuses every commit, once a sync has failed; undefined while it works. */
  failure: () => Error | undefined
  hold: (work: () => Promise<void>) => Promise<void>
  close: () => Promise<void>
} {
  const insert = db.prepare(INSERT_READING_SQL)
  // Only when a key is already stored: a replay of the same reading, or another reading under a reused id.
  const stored = db.prepare(
    'SELECT type, effective_ms, vals, flags, out_of_range FROM readings WHERE key = ?',
  )
  const latest = db.prepare(UPSERT_LATEST_SQL)
  const outbox = db.prepare('INSERT INTO outbox (key, enqueued_ms) VALUES (?, ?)')
  const dead = db.prepare(
    'INSERT INTO dead_letters (device_id, reading_id, code, reason, payload, received_ms) VALUES (?, ?, ?, ?, ?, ?)',
  )
  const now = options.now ?? Date.now
  const maxBatch = options.maxBatch ?? 1000
  const walSync = options.walSync
  const wal = walSync ? createFileSyncer(walSync.walPath, walSync.fdatasync) : undefined
  let queue: Pending[] = []
  let scheduled = false
  let transactions = 0
  // While held (see `hold`), what arrives queues as it does during a sync.
  let holding = false
  // Committed but not yet synced, and the sync in flight.
  let unsynced: { batch: Pending[]; results: Result[] }[] = []
  let syncing: Promise<void> | undefined
  // After a failed fdatasync the kernel may have dropped the dirty pages and a later sync can
  // falsely succeed (PostgreSQL's "fsyncgate"), so the journal refuses everything after one failure.
  let broken: Error | undefined

  /** The end of an event-loop turn that queued entries. */
  function flush() {
    scheduled = false
    // While a sync is in flight, what arrives waits for it and becomes one transaction when it returns
    // (unless maxBatch entries wait): its callers would wait for the next sync anyway, and one larger
    // transaction writes each touched B-tree page to the WAL once instead of once per turn, which
    // with many devices (keys and patients spread over many pages) is most of the commit's cost.
    if ((syncing || holding) && queue.length < maxBatch) return
    commitQueued()
  }

  function commitQueued() {
    const batch = queue
    queue = []
    if (batch.length === 0) return
    if (broken) {
      for (const p of batch) p.reject(broken)
      return
    }
    const results: Result[] = []
    try {
      db.exec('BEGIN IMMEDIATE')
      const t = now()
      // The newest reading per patient and type in this batch: one upsert each instead of one per row.
      const newest = new Map<string, StoredObservation>()
      for (const p of batch) {
        const fresh: StoredObservation[] = []
        const conflicts: StoredObservation[] = []
        for (const o of p.entry.accepted) {
          // INSERT OR IGNORE on the idempotency key: a replay changes nothing and is not "fresh". A
          // different reading under a stored key is a conflict: never silently dropped as a replay.
          const inserted = insert.run(...readingParams(o))
          if (inserted.changes === 0) {
            if (!sameReading(stored.get(o.key) as StoredRow, o)) conflicts.push(o)
            continue
          }
          o.seq = Number(inserted.lastInsertRowid)
          const slot = `${o.patientId}\u0000${o.type}`
          const prev = newest.get(slot)
          if (!prev || o.effectiveMs >= prev.effectiveMs) newest.set(slot, o)
          if (options.outbox) outbox.run(o.key, t)
          fresh.push(o)
        }
        for (const d of p.entry.deadLetters)
          dead.run(d.deviceId, d.readingId, d.code, d.reason, d.payload, d.receivedMs)
        results.push({ fresh, conflicts })
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
    if (!walSync) return answer({ batch, results })
    unsynced.push({ batch, results })
    if (!syncing) syncing = sync()
  }

  function answer(u: { batch: Pending[]; results: Result[] }) {
    for (const [i, p] of u.batch.entries()) p.resolve(u.results[i])
  }

  /** fdatasync the WAL until nothing committed is unsynced; one sync covers all committed before it. */
  async function sync(): Promise<void> {
    while (unsynced.length > 0) {
      const done = unsynced
      unsynced = []
      try {
        await (wal as ReturnType<typeof createFileSyncer>).sync()
      } catch (e) {
        broken = new Error('the journal could not sync the database to disk; readings are refused', {
          cause: e,
        })
        options.onFailure?.(broken)
        // Those committed while this sync ran are not known to be on disk either.
        for (const u of [...done, ...unsynced]) for (const p of u.batch) p.reject(broken)
        unsynced = []
        // And what waited for this sync to end is refused too (it was never committed).
        for (const p of queue.splice(0)) p.reject(broken)
        break
      }
      for (const u of done) answer(u)
      // What gathered during the sync: one transaction, and the next round syncs it.
      if (queue.length > 0 && !holding) commitQueued()
    }
    syncing = undefined
  }

  return {
    commit(entry) {
      return new Promise((resolve, reject) => {
        queue.push({ entry, resolve, reject })
        if (queue.length >= maxBatch) commitQueued()
        else if (!scheduled) {
          scheduled = true
          setImmediate(flush)
        }
      })
    },
    async flush() {
      commitQueued()
      while (syncing) await syncing
    },
    committed: () => transactions,
    failure: () => broken,
    /**
     * Run `work` while the journal commits nothing: what arrives waits (as during a sync) until it
     * settles. The checkpointer uses it so that one checkpoint can copy the whole WAL; the next
     * commit then starts the WAL over from its beginning instead of growing it forever under a load
     * that never pauses. A sync in flight goes on: its frames are committed, so they are copied too.
     */
    async hold(work: () => Promise<void>): Promise<void> {
      holding = true
      try {
        await work()
      } finally {
        holding = false
        if (queue.length > 0) commitQueued()
      }
    },
    /** Commit and sync what is queued, then release the WAL file handle. */
    async close() {
      commitQueued()
      while (syncing) await syncing
      wal?.close()
    },
  }
}
