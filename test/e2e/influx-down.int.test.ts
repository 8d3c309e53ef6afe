import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Caller, call } from '../helpers/api-client.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { freePort } from '../helpers/influxd.ts'

// InfluxDB down must not take the care team's screen down with it. The worklist and the alert feed come
// from the local store, which has every reading the moment it is accepted; what needs InfluxDB (history,
// FHIR search) says so with a clear error, and /readyz says InfluxDB is behind. InfluxDB is a free
// loopback port with nothing listening: connections are refused, as with influxd stopped.

describe('InfluxDB unreachable', () => {
  let h: Harness
  let coord: Caller
  beforeEach(async () => {
    h = await startHarness({ env: { INFLUX_URL: `http://127.0.0.1:${await freePort()}` } })
    await h.enrollPatient('p1', { name: 'Ada Lovelace' })
    const pw = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    coord = { name: 'coord', cookie: await h.login('coord@example.org', pw) }
  })
  afterEach(async () => h.close())

  it('still serves the worklist with the latest reading and the alert feed; history says InfluxDB is unreachable', async () => {
    const device = await h.connectDevice('hr-1', await h.enrollDevice('hr-1', 'p1'))
    await device.publishAsync(
      'rpm/v1/devices/hr-1/readings',
      JSON.stringify({ id: 'r1', type: 'heart-rate', ts: new Date().toISOString(), value: 150, unit: 'bpm' }),
      { qos: 1 },
    )
    await device.endAsync()

    const worklist = await call(h.httpUrl, coord, 'GET', '/api/patients')
    expect(worklist.status).toBe(200)
    const [row] = worklist.body.patients
    expect(row).toMatchObject({
      id: 'p1',
      latest: { 'heart-rate': expect.objectContaining({ values: { value: 150 } }) },
    })
    // The alert is raised after the commit (not InfluxDB's business) and reaches the feed.
    await expect
      .poll(async () => (await call(h.httpUrl, coord, 'GET', '/api/alerts?status=open')).body.alerts?.length)
      .toBeGreaterThan(0)
    expect(
      (await call(h.httpUrl, coord, 'GET', '/api/patients')).body.patients[0].openAlerts,
    ).toBeGreaterThan(0)

    // The patient view's latest values and RPM day count come from the local store too.
    const detail = await call(h.httpUrl, coord, 'GET', '/api/patients/p1')
    expect(detail.status).toBe(200)
    expect(detail.body).toMatchObject({
      latest: { 'heart-rate': expect.objectContaining({ values: { value: 150 } }) },
      rpm: { daysWithReadings: 1 },
    })

    // History needs InfluxDB: a 503 to retry later (not a 500 "internal error"), without the address.
    const history = await call(h.httpUrl, coord, 'GET', '/api/patients/p1/readings')
    expect(history.status).toBe(503)
    expect(history.headers.get('retry-after')).toBe('5')
    expect(history.body).toEqual({
      error: { code: 'VW_ERR_STORAGE_UNAVAILABLE', message: 'storage unavailable' },
    })
    const fhir = await call(h.httpUrl, coord, 'GET', '/fhir/r4/Observation?patient=p1')
    expect(fhir.status).toBe(503)
    expect(fhir.headers.get('retry-after')).toBe('5')
    expect(fhir.body).toEqual({
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'transient', diagnostics: 'storage unavailable' }],
    })
    const readyz = await (await fetch(`${h.httpUrl}/readyz`)).json()
    expect(readyz).toMatchObject({ status: 'degraded', checks: { influx: { ok: true, degraded: true } } })
  })
})

describe('InfluxDB over plain http', () => {
  const warning = (h: Harness) =>
    h.logs.filter((l) => String(l.msg).startsWith('INFLUX_URL is plain http to another machine'))

  it('warns at start when readings would cross the network unencrypted, naming only the host', async () => {
    // 192.0.2.0/24 is reserved for documentation (RFC 5737): nothing answers, nothing is sent anywhere.
    const h = await startHarness({
      env: { INFLUX_URL: 'http://192.0.2.10:8086', INFLUX_TOKEN: 'secret-token' },
    })
    try {
      expect(warning(h)).toEqual([expect.objectContaining({ level: 40, influxHost: '192.0.2.10:8086' })])
      expect(JSON.stringify(h.logs)).not.toContain('secret-token')
    } finally {
      await h.close()
    }
  })

  it('says nothing for http to this machine, or to a container on its private network (compose)', async () => {
    for (const url of [`http://127.0.0.1:${await freePort()}`, 'http://influxdb:8086']) {
      const h = await startHarness({ env: { INFLUX_URL: url } })
      try {
        expect(h.logs.length).toBeGreaterThan(0)
        expect(warning(h), url).toEqual([])
      } finally {
        await h.close()
      }
    }
  })
})
