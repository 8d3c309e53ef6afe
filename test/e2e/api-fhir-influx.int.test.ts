import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../shared/config.ts'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'
import { call, eventually } from '../helpers/api-client.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { type Influxd, startInfluxd } from '../helpers/influxd.ts'
import { makeReadings } from '../helpers/readings.ts'
import { requireBinary } from '../helpers/requirements.ts'

// With InfluxDB configured it is the system of record the FHIR API reads. Its keyset cursors are not
// the embedded store's: the Bundle's next and previous links must be built in its own format (every
// next link of a search answered 400 before, so a client never got past page 1).

const T0 = Date.parse('2026-11-01T00:00:00Z')

describe.runIf(requireBinary('influxd'))('FHIR R4 API over InfluxDB', () => {
  let influxd: Influxd
  let h: Harness
  const admin = { name: 'admin', cookie: undefined as string | undefined }
  beforeAll(async () => {
    influxd = await startInfluxd()
    await influxd.query('CREATE DATABASE "vitalwire"')
    h = await startHarness({ only: ['dashboard'], env: { INFLUX_URL: influxd.url } })
    await h.enrollPatient('p1')
    await h.enrollDevice('d1', 'p1')
    admin.cookie = await h.login('admin@example.org', await h.addUser('admin@example.org', 'admin'))
    // Committed through the journal as ingest does, so the forwarder takes them to InfluxDB.
    const config = loadConfig(h.env)
    const s = openEmbeddedStorage({ dataDir: h.dataDir, dbPath: config.dbPath, outbox: true })
    const readings = [
      ...makeReadings({
        patientId: 'p1',
        deviceId: 'd1',
        type: 'heart-rate',
        startMs: T0,
        stepMs: 60_000,
        count: 7,
      }),
    ]
    await s.journal.commit({ accepted: readings, deadLetters: [] })
    s.close()
    await eventually(
      async () =>
        (await call(h.httpUrl, admin, 'GET', '/fhir/r4/Observation?patient=p1&_total=accurate')).body
          .total === 7,
      20_000,
    )
  })
  afterAll(async () => {
    await h?.close()
    await influxd?.close()
  })

  it('pages on with next links and back with previous, each reading once, in date order', async () => {
    const url = (u: string) => u.slice(h.httpUrl.length)
    const pages: any[] = [
      (await call(h.httpUrl, admin, 'GET', '/fhir/r4/Observation?patient=p1&_count=3&_sort=date')).body,
    ]
    for (;;) {
      const next = pages.at(-1).link.find((l: any) => l.relation === 'next')
      if (!next) break
      const page = await call(h.httpUrl, admin, 'GET', url(next.url))
      expect(page.status, JSON.stringify(page.body)).toBe(200)
      pages.push(page.body)
    }
    const values = pages.flatMap((p) => p.entry.map((e: any) => e.resource.valueQuantity.value))
    expect(pages.map((p) => p.entry.length)).toEqual([3, 3, 1])
    const times = pages.flatMap((p) => p.entry.map((e: any) => Date.parse(e.resource.effectiveDateTime)))
    expect(times).toEqual(Array.from({ length: 7 }, (_, i) => T0 + i * 60_000))
    expect(values).toHaveLength(7)
    const previous = pages[2].link.find((l: any) => l.relation === 'previous')
    const back = await call(h.httpUrl, admin, 'GET', url(previous.url))
    expect(back.status).toBe(200)
    expect(back.body.entry.map((e: any) => e.resource.id)).toEqual(
      pages[1].entry.map((e: any) => e.resource.id),
    )
  })
})
