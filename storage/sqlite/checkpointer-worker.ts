import { DatabaseSync } from 'node:sqlite'
import { parentPort, workerData } from 'node:worker_threads'

// Worker thread: copies the WAL into the database file (PASSIVE checkpoints, which never wait for or
// block readers and writers) so that this disk work, and its fsyncs, never run on the event loop
// that acknowledges readings. See checkpointer.ts.

const { dbPath, intervalMs } = workerData as { dbPath: string; intervalMs: number }
const db = new DatabaseSync(dbPath)
db.exec('PRAGMA busy_timeout = 5000')
db.exec('PRAGMA synchronous = FULL')
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')

function run() {
  try {
    checkpoint.get()
  } catch (e) {
    parentPort?.postMessage({ type: 'error', message: (e as Error).message })
  }
}

const timer = setInterval(run, intervalMs)
parentPort?.on('message', (m: string) => {
  if (m === 'close') {
    clearInterval(timer)
    run()
    db.close()
    parentPort?.close()
  }
})
