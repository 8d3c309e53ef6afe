import { Worker } from 'node:worker_threads'
import type { Logger } from '../../shared/logger.ts'
import type { Db } from './database.ts'

// WAL checkpoints on a worker thread. SQLite's automatic checkpoint runs inside whichever COMMIT
// crosses 1,000 WAL pages, on that connection's thread: for the server that is the event loop, which
// then stalls for the copy and two fsyncs while devices wait for their PUBACKs. The server turns the
// automatic checkpoints off on its connections and lets this worker checkpoint every `intervalMs`.
// If the worker dies, automatic checkpoints come back on, so the WAL can never grow without bound.

export interface Checkpointer {
  close(): Promise<void>
}

export function startCheckpointer(opts: {
  dbPath: string
  connections: Db[]
  log: Pick<Logger, 'warn' | 'error'>
  intervalMs?: number
}): Checkpointer {
  const auto = (pages: number) => {
    for (const db of opts.connections) if (db.isOpen) db.exec(`PRAGMA wal_autocheckpoint = ${pages}`)
  }
  auto(0)
  const worker = new Worker(new URL('./checkpointer-worker.ts', import.meta.url), {
    workerData: { dbPath: opts.dbPath, intervalMs: opts.intervalMs ?? 1000 },
    // Not the parent's flags (--input-type, --cpu-prof, ...): the worker is a plain module.
    execArgv: [],
  })
  // The worker must not keep a finished process alive on its own.
  worker.unref()
  let closing = false
  worker.on('message', (m: { type: string; message?: string }) => {
    if (m.type === 'error') opts.log.warn({ reason: m.message }, 'WAL checkpoint failed; will retry')
  })
  worker.on('error', (err) => opts.log.error({ err }, 'WAL checkpointer failed'))
  const exited = new Promise<void>((resolve) =>
    worker.once('exit', () => {
      if (!closing) {
        opts.log.error('WAL checkpointer stopped; automatic checkpoints are back on')
        auto(1000)
      }
      resolve()
    }),
  )
  return {
    async close() {
      closing = true
      // Referenced again so the process waits for the last checkpoint instead of exiting under it.
      worker.ref()
      worker.postMessage('close')
      await exited
    },
  }
}
