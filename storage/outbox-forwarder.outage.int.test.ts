import { randomUUID } from 'node:crypto'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../test/helpers/harness.ts'
import { type Influxd, startInfluxd, waitFor } from '../test/helpers/influxd.ts'
import { requireBinary } from '../test/helpers/requirements.ts'

// The whole path under load: real TLS MQTT devices -> Vitalwire (journal + outbox) -> real influxd,
// with influxd stopped in the middle and started again. Every PUBACKed reading must be in InfluxDB
// exactly once, and the outbox must end empty.

const DEVICES = 3

describe.runIf(requireBinary('influxd'))('InfluxDB outage under load', () => {
  let influxd: Influxd
  let h: Harness
  const database = `e2e_${randomUUID().slice(0, 8)}`
  beforeAll(async () => {
    influxd = await startInfluxd()
    await influxd.query(`CREATE DATABASE "${database}"`)
    h = await startHarness({
      env: { INFLUX_URL: influxd.url, INFLUX_DATABASE: database, VITALWIRE_MQTT_RATE_PER_S: '2000' },
    })
  })
  afterAll(async () => {
    await h?.close()
    await influxd?.close()
  })

  const metric = async (name: string) => {
    const text = await (await fetch(`${h.httpUrl}/metrics`)).text()
    const m = text.match(new RegExp(`^${name} (\\S+)$`, 'm'))
    return m ? Number(m[1]) : Number.NaN
  }
  const readyz = async () => {
    const res = await fetch(`${h.httpUrl}/readyz`)
    return { status: res.status, body: await res.json() }
  }

  it('keeps accepting while influxd is down and ends with every accepted reading in InfluxDB exactly once', async () => {
    await h.enrollPatient('p1')
    const devices: MqttClient[] = []
    for (let d = 0; d < DEVICES; d++)
      devices.push(await h.connectDevice(`dev-${d}`, await h.enrollDevice(`dev-${d}`, 'p1')))

    const accepted: string[] = []
    let publishing = true
    const load = devices.map(async (client, d) => {
      for (let i = 0; publishing; i++) {
        const id = `r-${i}`
        const type = i % 2 ? 'heart-rate' : 'spo2'
        const reading = { id, type, value: type === 'spo2' ? 95 : 70, ts: Date.now() }
        await client.publishAsync(`rpm/v1/devices/dev-${d}/readings`, JSON.stringify(reading), { qos: 1 })
        accepted.push(`dev-${d}:${id}`)
      }
    })

    await waitFor(async () => (await metric('vitalwire_forwarded_total')) >= 100, 20_000, 'forwarding')
    expect((await readyz()).body.status).toBe('ready')

    await influxd.stop()
    const atStop = accepted.length
    await waitFor(async () => (await readyz()).body.status === 'degraded', 10_000, 'degraded')
    const down = await readyz()
    expect(down.status).toBe(200)
    expect(down.body.checks.influx).toMatchObject({ ok: true, degraded: true })
    await waitFor(() => accepted.length >= atStop + 300, 20_000, 'accepting while InfluxDB is down')
    expect(await metric('vitalwire_outbox_backlog')).toBeGreaterThan(0)
    expect(await metric('vitalwire_outbox_oldest_age_seconds')).toBeGreaterThan(0)

    await influxd.start()
    const atStart = accepted.length
    await waitFor(() => accepted.length >= atStart + 300, 20_000, 'accepting after restart')
    publishing = false
    await Promise.all(load)

    await waitFor(async () => (await metric('vitalwire_outbox_backlog')) === 0, 30_000, 'outbox drained')
    await waitFor(async () => (await readyz()).body.status === 'ready', 10_000, 'ready again')

    const res = await influxd.query('SELECT "key" FROM "heart-rate", "spo2"', database)
    const keys: string[] = res.results[0].series.flatMap((s: any) => s.values.map((v: any[]) => v[1]))
    expect(keys.length).toBe(accepted.length)
    expect(new Set(keys).size).toBe(keys.length)
    expect(new Set(keys)).toEqual(new Set(accepted))
    expect(await metric('vitalwire_forwarded_total')).toBe(accepted.length)
  })
})
