import { openDatabase } from '../../storage/sqlite/database.ts'
import { createSqliteReadingStore } from '../../storage/sqlite/readings.ts'
import { describeReadingStore } from './reading-store.ts'

describeReadingStore('sqlite', async () => {
  const db = openDatabase(':memory:')
  return { store: createSqliteReadingStore(db), cleanup: async () => db.close() }
})
