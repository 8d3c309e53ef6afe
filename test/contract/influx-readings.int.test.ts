import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe } from 'vitest'
import { createInfluxReadingStore } from '../../storage/influx/index.ts'
import { type Influxd, startInfluxd } from '../helpers/influxd.ts'
import { requireBinary } from '../helpers/requirements.ts'
import { describeReadingStore } from './reading-store.ts'

// The same contract against a real influxd; each test gets its own database.
describe.runIf(requireBinary('influxd'))('influx readings', () => {
  let influxd: Influxd
  beforeAll(async () => {
    influxd = await startInfluxd()
  })
  afterAll(async () => influxd?.close())

  describeReadingStore('influx (v1 API, no locator: get scans)', async () => {
    const database = `c_${randomUUID().slice(0, 8)}`
    await influxd.query(`CREATE DATABASE "${database}"`)
    return {
      store: createInfluxReadingStore({ url: influxd.url, database }),
      cleanup: async () => void (await influxd.query(`DROP DATABASE "${database}"`)),
    }
  })

  describeReadingStore('influx (retention policy, located get)', async () => {
    const database = `r_${randomUUID().slice(0, 8)}`
    await influxd.query(`CREATE DATABASE "${database}" WITH DURATION INF NAME "keep"`)
    await influxd.query(`CREATE RETENTION POLICY "short" ON "${database}" DURATION 3650d REPLICATION 1`)
    // The locator stands in for the local SQLite index, fed by what was written.
    const index = new Map<string, any>()
    const store = createInfluxReadingStore(
      { url: influxd.url, database, retentionPolicy: 'short' },
      { locate: async (id) => index.get(id) },
    )
    const write = store.write
    store.write = async (batch) => {
      for (const o of batch) index.set(o.id, o)
      return write(batch)
    }
    return { store, cleanup: async () => void (await influxd.query(`DROP DATABASE "${database}"`)) }
  })
})
