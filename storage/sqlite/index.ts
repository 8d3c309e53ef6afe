import fs from 'node:fs'
import path from 'node:path'
import { createFieldCipher, loadDataKey } from '../../shared/data-key.ts'
import { VitalwireError } from '../../shared/errors.ts'
import type { Logger } from '../../shared/logger.ts'
import { createSqliteAlertStore } from './alerts.ts'
import { createSqliteAuditLog } from './audit.ts'
import { type Checkpointer, startCheckpointer } from './checkpointer.ts'
import { createFileSyncer, openDatabase } from './database.ts'
import { createSqliteDeadLetters } from './dead-letters.ts'
import { createSqliteJournal } from './journal.ts'
import { createSqliteReadingStore } from './readings.ts'
import { createSqliteRegistry } from './registry.ts'

export function openEmbeddedStorage(opts: {
  dataDir: string
  dbPath: string
  dataKey?: string
  outbox: boolean
  /** The registry's clock (enrollment, monitoring changes); tests inject one. */
  now?: () => number
  /**
   * The long-running server (not the CLI): the journal gets its own connection that syncs the WAL
   * off the event loop, and WAL checkpoints run on a worker thread (journal.ts, checkpointer.ts).
   */
  serve?: {
    log: Pick<Logger, 'warn' | 'error'>
    /** Checkpoint cadence and the WAL size that makes it start over (tests shrink them). */
    checkpoints?: { intervalMs?: number; restartFrames?: number }
    /** fdatasync for the journal's WAL; injectable only so a test can make the disk fail. */
    fdatasync?: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void
  }
}) {
  const db = openDatabase(opts.dbPath)
  const keyFile = path.join(opts.dataDir, 'data.key')
  const hadKeyFile = fs.existsSync(keyFile)
  const cipher = createFieldCipher(loadDataKey(opts.dataDir, opts.dataKey))
  // The key must open what is stored. A changed or forgotten key started as if nothing were wrong:
  // /readyz said ready while every enrolled device was refused, patient reads failed with 500, and new
  // patients were sealed with the other key.
  const sealed = db.prepare('SELECT name_enc FROM patients LIMIT 1').get() as { name_enc: string } | undefined
  if (sealed) {
    try {
      cipher.decrypt(sealed.name_enc)
    } catch {
      db.close()
      // A key file this call just made is not the data's key: leave nothing behind.
      if (!opts.dataKey && !hadKeyFile) fs.rmSync(keyFile, { force: true })
      throw new VitalwireError(
        'VW_ERR_CONFIG_INVALID',
        opts.dataKey
          ? `VITALWIRE_DATA_KEY does not open the patients stored in ${opts.dataDir}: set the key they were written with`
          : `${keyFile} does not open the patients stored in ${opts.dataDir}${hadKeyFile ? '' : ' (there was no key file: were they written with VITALWIRE_DATA_KEY?)'}: set VITALWIRE_DATA_KEY to the key they were written with`,
      )
    }
  }
  const serve = opts.dbPath === ':memory:' ? undefined : opts.serve
  const serving = serve !== undefined
  // Both connections live on the event loop and every transaction completes inside one synchronous
  // call, so they never wait for each other's locks.
  const journalDb = serving ? openDatabase(opts.dbPath, { synchronous: 'NORMAL' }) : db
  const journal = createSqliteJournal(journalDb, {
    outbox: opts.outbox,
    walSync: serving ? { walPath: `${opts.dbPath}-wal`, fdatasync: serve.fdatasync } : undefined,
    onFailure: (err) =>
      serve?.log.error(
        { err },
        'the journal could not sync the database to disk: readings are refused until Vitalwire restarts',
      ),
  })
  const checkpointer: Checkpointer | undefined = serve
    ? startCheckpointer({
        dbPath: opts.dbPath,
        connections: [db, journalDb],
        log: serve.log,
        hold: journal.hold,
        ...serve.checkpoints,
      })
    : undefined
  const audit = createSqliteAuditLog(db)
  // The main connection's WAL, kept open for the alert store's syncs while the server runs.
  const mainWal = serving ? createFileSyncer(`${opts.dbPath}-wal`) : undefined
  return {
    db,
    registry: createSqliteRegistry(db, cipher, opts.now),
    readings: createSqliteReadingStore(db),
    journal,
    alerts: createSqliteAlertStore(db, { syncWal: mainWal?.sync }),
    deadLetters: createSqliteDeadLetters(db),
    audit,
    /**
     * The readiness check: down once the journal refuses readings (a failed sync); degraded while the
     * WAL keeps growing or the checkpointer thread has stopped.
     */
    check(): { ok: boolean; degraded?: boolean; detail?: string } {
      const failure = journal.failure()
      if (failure) return { ok: false, detail: `${failure.message}; check the disk, then restart Vitalwire` }
      const problem = checkpointer?.problem()
      return problem ? { ok: true, degraded: true, detail: problem } : { ok: true }
    },
    /**
     * Commit (and sync) what is queued, then close: no half-written state. Without `serve` this
     * completes before it returns (the CLI reopens the file right after).
     */
    close(): Promise<void> {
      if (!serving) {
        void journal.flush()
        audit.flush()
        if (db.isOpen) db.close()
        return Promise.resolve()
      }
      return (async () => {
        await journal.close()
        audit.flush()
        await checkpointer?.close()
        if (journalDb.isOpen) journalDb.close()
        if (db.isOpen) db.close()
        mainWal?.close()
      })()
    },
  }
}

export type EmbeddedStorage = ReturnType<typeof openEmbeddedStorage>
