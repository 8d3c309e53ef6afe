import { createFieldCipher, loadDataKey } from '../../shared/data-key.ts'
import { createSqliteAlertStore } from './alerts.ts'
import { createSqliteAuditLog } from './audit.ts'
import { openDatabase } from './database.ts'
import { createSqliteJournal } from './journal.ts'
import { createSqliteReadingStore } from './readings.ts'
import { createSqliteRegistry } from './registry.ts'

export function openEmbeddedStorage(opts: {
  dataDir: string
  dbPath: string
  dataKey?: string
  outbox: boolean
}) {
  const db = openDatabase(opts.dbPath)
  const cipher = createFieldCipher(loadDataKey(opts.dataDir, opts.dataKey))
  const journal = createSqliteJournal(db, { outbox: opts.outbox })
  const audit = createSqliteAuditLog(db)
  return {
    db,
    registry: createSqliteRegistry(db, cipher),
    readings: createSqliteReadingStore(db),
    journal,
    alerts: createSqliteAlertStore(db),
    audit,
    /** Commit what is queued, then close: no half-written state. */
    close() {
      journal.flush()
      audit.flush()
      if (db.isOpen) db.close()
    },
  }
}

export type EmbeddedStorage = ReturnType<typeof openEmbeddedStorage>
