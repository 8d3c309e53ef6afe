import { DatabaseSync } from 'node:sqlite'
import { parentPort, workerData } from 'node:worker_threads'

// Worker thread: copies the WAL into the database file (PASSIVE checkpoints, which never wait for or
// block readers and writers) so that this disk work, and its fsyncs, never run on the event loop
// that acknowledges readings. When the WAL has grown past `restartFrames`, it says so; the parent
// holds the journal's commits and asks for one checkpoint with nothing being written ('restart'),
// which copies everything, so the next commit starts the WAL over. See checkpointer.ts.

const { dbPath, intervalMs, restartFrames } = workerData as {
  dbPath: string
  intervalMs: number
  restartFrames: number
}
const db = new DatabaseSync(dbPath)
db.exec('PRAGMA busy_timeout = 5000')
db.exec('PRAGMA synchronous = FULL')
const checkpoint = db.prepare('PRAGMA wal_checkpoint(PASSIVE)')

interface Result {
  busy: number
  /** Frames in the WAL. */
  log: number
  /** Frames of it copied into the database file. */
  checkpointed: number
}

function run(): Result | undefined {
  try {
    return checkpoint.get() as unknown as Result
  } catch (e) {
    parentPort?.postMessage({ type: 'error', message: (e as Error).message })
    return undefined
  }
}

const timer = setInterval(() => {
  const r = run()
  if (r && r.log >= restartFrames) parentPort?.postMessage({ type: 'wal-large', frames: r.log })
}, intervalMs)
parentPort?.on('message', (m: string) => {
  if (m === 'restart') {
    run()
    parentPort?.postMessage({ type: 'restarted' })
  } else if (m === 'close') {
    clearInterval(timer)
    run()
    db.close()
    parentPort?.close()
  }
})
