import fs from 'node:fs'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { MIGRATIONS } from './migrations.ts'

// One SQLite file under the data dir, WAL mode. synchronous=FULL: a commit is on disk before the
// device gets its PUBACK, so `kill -9` or a power cut loses no acknowledged reading.

export type Db = DatabaseSync

export function openDatabase(file: string, opts: { synchronous?: 'FULL' | 'NORMAL' } = {}): Db {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const db = new DatabaseSync(file)
  db.exec('PRAGMA journal_mode = WAL')
  // NORMAL only for the journal's connection, which syncs the WAL itself before acknowledging.
  db.exec(`PRAGMA synchronous = ${opts.synchronous ?? 'FULL'}`)
  db.exec('PRAGMA foreign_keys = ON')
  // 64 MiB of page cache (default 2 MiB): the pages every commit touches (the growing ends of the
  // readings indexes, per patient) stay in memory as the table grows.
  db.exec('PRAGMA cache_size = -65536')
  // The CLI and the server share the file; wait for each other's short transactions.
  db.exec('PRAGMA busy_timeout = 5000')
  if (file !== ':memory:') {
    for (const f of [file, `${file}-wal`, `${file}-shm`]) if (fs.existsSync(f)) fs.chmodSync(f, 0o600)
  }
  migrate(db)
  return db
}

/** Apply schema migrations versioned in code; PRAGMA user_version records the applied version. */
export function migrate(db: Db): number {
  const current = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version
  if (current > MIGRATIONS.length) {
    throw new Error(
      `database schema version ${current} is newer than this Vitalwire (${MIGRATIONS.length}); upgrade Vitalwire`,
    )
  }
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.exec('BEGIN IMMEDIATE')
    try {
      // Another process may have migrated while we waited for the lock.
      const now = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version
      if (now > v) {
        db.exec('COMMIT')
        continue
      }
      db.exec(MIGRATIONS[v])
      db.exec(`PRAGMA user_version = ${v + 1}`)
      db.exec('COMMIT')
    } catch (e) {
      db.exec('ROLLBACK')
      throw new Error(`schema migration ${v + 1} failed`, { cause: e })
    }
  }
  return MIGRATIONS.length
}

/**
 * fdatasync a file on the thread pool (the event loop never waits for the disk). A WAL that is gone
 * was checkpointed into the (synced) database.
 */
export async function datasyncFile(file: string): Promise<void> {
  let fh: fs.promises.FileHandle
  try {
    fh = await fs.promises.open(file, 'r')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return
    throw e
  }
  try {
    await fh.datasync()
  } finally {
    await fh.close()
  }
}

/**
 * fdatasync one file on the thread pool through a descriptor kept open, one round trip per sync (not
 * open + sync + close). For the WAL of a database this process keeps open: SQLite keeps that file while
 * any connection has the database open. `close` releases the descriptor.
 */
export function createFileSyncer(
  file: string,
  fdatasync: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void = fs.fdatasync,
) {
  let fd: number | undefined
  return {
    sync: () =>
      new Promise<void>((resolve, reject) => {
        try {
          fd ??= fs.openSync(file, 'r')
        } catch (e) {
          return reject(e)
        }
        fdatasync(fd, (err) => (err ? reject(err) : resolve()))
      }),
    close() {
      if (fd !== undefined) fs.closeSync(fd)
      fd = undefined
    },
  }
}

/**
 * The WAL file to sync in the background after a commit made with synchronous=NORMAL, for a
 * file-backed connection that would otherwise sync on every commit (FULL or EXTRA); undefined for an
 * in-memory database or one already at NORMAL or OFF, which keep their setting.
 */
export function backgroundSyncWal(db: Db): { wal: string; synchronous: number } | undefined {
  const synchronous = (db.prepare('PRAGMA synchronous').get() as { synchronous: number }).synchronous
  const location = db.location()
  return location && synchronous >= 2 ? { wal: `${location}-wal`, synchronous } : undefined
}

/** Run `fn` in one transaction. */
export function transaction<T>(db: Db, fn: () => T): T {
  db.exec('BEGIN IMMEDIATE')
  try {
    const out = fn()
    db.exec('COMMIT')
    return out
  } catch (e) {
    db.exec('ROLLBACK')
    throw e
  }
}
