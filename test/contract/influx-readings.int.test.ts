import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { observationResource } from '../../shared/fhir.ts'
import { createInfluxReadingStore } from '../../storage/influx/index.ts'
import { type Influxd, startInfluxd } from '../helpers/influxd.ts'
import { requireBinary } from '../helpers/requirements.ts'
import { NOW_MS, observe } from './fixtures.ts'
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

  it('reads points written before the compact schema (whole-hex id and effective as fields)', async () => {
    const database = `l_${randomUUID().slice(0, 8)}`
    await influxd.query(`CREATE DATABASE "${database}"`)
    const [o] = observe('dev-old', 'pat-old', {
      id: 'r1',
      type: 'heart-rate',
      value: 71,
      ts: NOW_MS - 60_000,
    })
    const legacy = { ...o, id: 'c0ffee'.padEnd(32, '0') }
    const ns = BigInt(o.effectiveMs) * 1_000_000n
    const line =
      `heart-rate,device_id=dev-old,patient_id=pat-old id="${legacy.id}",key="${o.key}",` +
      `effective_ms=${o.effectiveMs}i,received_ms=${o.receivedMs}i,effective="${o.effective}",value=71 ${ns}`
    const res = await fetch(`${influxd.url}/write?db=${database}&precision=ns`, {
      method: 'POST',
      body: line,
    })
    expect(res.status).toBe(204)
    const store = createInfluxReadingStore({ url: influxd.url, database })
    const back = await store.get(legacy.id)
    expect(back).toEqual(legacy)
    expect(observationResource(back!).id).toBe(legacy.id)
    await store.close()
    await influxd.query(`DROP DATABASE "${database}"`)
  })
})
