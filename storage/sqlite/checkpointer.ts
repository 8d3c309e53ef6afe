import { Worker } from 'node:worker_threads'
import type { Logger } from '../../shared/logger.ts'
import type { Db } from './database.ts'

// WAL checkpoints on a worker thread. SQLite's automatic checkpoint runs inside whichever COMMIT
// crosses 1,000 WAL pages, on that connection's thread: for the server that is the event loop, which
// then stalls for the copy and two fsyncs while devices wait for their PUBACKs. The server turns the
// automatic checkpoints off on its connections and lets this worker checkpoint every `intervalMs`.
// If the worker dies, automatic checkpoints come back on, so the WAL can never grow without bound.
//
// A PASSIVE checkpoint copies the frames committed before it began; SQLite starts the WAL over
// from its beginning only at a commit that finds every frame copied. Under a load that never pauses
// (a commit every few milliseconds) that moment never comes, and the WAL grew by ~130 MB/s at
// 22,000 readings/s (1.3 GB after 10 s), each new page of the file zeroed by the kernel before the
// write: a fifth of the server's CPU. So when the WAL is past `restartFrames`, the checkpointer asks
// `hold` (the journal's) to pause commits for one checkpoint, which then copies everything, and the
// next commit reuses the file from its start. The pause is one checkpoint of the frames since the
// last one (`intervalMs`); readings that arrive meanwhile wait in one transaction, as during a sync.

export interface Checkpointer {
  close(): Promise<void>
  /** For the storage readiness check: what is wrong with checkpointing now, if anything. */
  problem(): string | undefined
}

/** How long after the last report of a WAL past 4x the restart size it still counts as growing. */
const GROWING_REPORT_MS = 2000

export function startCheckpointer(opts: {
  dbPath: string
  connections: Db[]
  log: Pick<Logger, 'warn' | 'error'>
  intervalMs?: number
  /** WAL size, in 4 KiB frames, past which commits pause once so the WAL can start over. */
  restartFrames?: number
  /** Run `work` while the journal commits nothing (journal.hold). */
  hold?: (work: () => Promise<void>) => Promise<void>
}): Checkpointer {
  const auto = (pages: number) => {
    for (const db of opts.connections) if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${pages}`)
  }
  auto(0)
  const restartFrames = opts.restartFrames ?? 16384
  const worker = new Worker(new URL('./checkpointer-worker.ts', import.meta.url), {
    workerData: {
      dbPath: opts.dbPath,
      intervalMs: opts.intervalMs ?? 50,
      restartFrames,
    },
    // Not the parent's flags (--input-type, --cpu-prof, ...): the worker is a plain module.
    execArgv: [],
  })
  // The worker must not keep a finished process alive on its own.
  worker.unref()
  let closing = false
  // The answer to 'restart' that a held journal waits for (also given if the worker stops).
  let restarted: (() => void) | undefined
  let restarting = false
  const restart = () =>
    new Promise<void>((resolve) => {
      // Never hold the journal long: a checkpoint that takes longer finishes unheld.
      const timeout = setTimeout(() => restarted?.(), 250)
      restarted = () => {
        clearTimeout(timeout)
        restarted = undefined
        resolve()
      }
      worker.postMessage('restart')
    })
  // A WAL several times past the restart size means the restarts are not happening (another process
  // writing all the time, a reader holding an old snapshot, a disk too slow for the hold): say so, at
  // most once a minute, before the disk fills.
  let warnedAt = Number.NEGATIVE_INFINITY
  let growing: { frames: number; atMs: number } | undefined
  let stopped = false
  worker.on('message', (m: { type: string; message?: string; frames?: number }) => {
    if (m.type === 'error') opts.log.warn({ reason: m.message }, 'WAL checkpoint failed; will retry')
    else if (m.type === 'restarted') restarted?.()
    if (m.type !== 'wal-large') return
    const frames = m.frames ?? 0
    if (frames >= 4 * restartFrames) {
      growing = { frames, atMs: performance.now() }
      if (growing.atMs - warnedAt > 60_000) {
        warnedAt = growing.atMs
        opts.log.warn(
          { walFrames: frames, restartFrames },
          'the WAL keeps growing: checkpoints cannot start it over',
        )
      }
    }
    if (opts.hold && !restarting && !closing) {
      restarting = true
      opts
        .hold(restart)
        .catch((err) => opts.log.error({ err }, 'WAL restart failed'))
        .finally(() => {
          restarting = false
        })
    }
  })
  worker.on('error', (err) => opts.log.error({ err }, 'WAL checkpointer failed'))
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      restarted?.()
      if (!closing) {
        stopped = true
        opts.log.error('WAL checkpointer stopped; automatic checkpoints are back on')
        auto(1000)
      }
      resolve()
    }),
  )
  return {
    problem() {
      if (growing && performance.now() - growing.atMs < GROWING_REPORT_MS)
        return `the database's write-ahead log keeps growing (${Math.round((growing.frames * 4) / 1024)} MiB): checkpoints cannot start it over, and the disk may fill (a long-open reader or another process writing all the time?)`
      if (stopped)
        return 'the WAL checkpointer thread stopped: checkpoints run inside commits again, which slows acknowledgements'
      return undefined
    },
    async close() {
      closing = true
      // Referenced again so the process waits for the last checkpoint instead of exiting under it.
      worker.ref()
      worker.postMessage('close')
      await exited
    },
  }
}
