import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { call, eventually } from '../helpers/api-client.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'

// `vitalwire start --only broker,ingest` and `--only alerts,dashboard` on one data dir: the second
// hears of readings only through the store. Before, it evaluated them only at its next start, so a
// critical SpO2 raised no alert for as long as it ran.

describe('ingest and alerts in separate processes', () => {
  let ingest: Harness
  let alerts: Harness
  const coordinator = { name: 'coordinator', cookie: undefined as string | undefined }
  beforeAll(async () => {
    ingest = await startHarness({ only: ['broker', 'ingest'] })
    alerts = await startHarness({ only: ['alerts', 'dashboard'], dataDir: ingest.dataDir })
    await ingest.enrollPatient('p1')
    const pw = await alerts.addUser('c@example.org', 'coordinator', ['p1'])
    coordinator.cookie = await alerts.login('c@example.org', pw)
  })
  afterAll(async () => {
    await alerts?.close()
    await ingest?.close()
  })

  it('raises the alert for a reading the other process stored, once', async () => {
    const device = await ingest.connectDevice('ox-1', await ingest.enrollDevice('ox-1', 'p1'))
    const reading = { id: 'r1', type: 'spo2', ts: new Date().toISOString(), value: 80, unit: '%' }
    await device.publishAsync('rpm/v1/devices/ox-1/readings', JSON.stringify(reading), { qos: 1 })
    await device.endAsync()
    const open = async () =>
      (await call(alerts.httpUrl, coordinator, 'GET', '/api/alerts?status=open')).body.alerts as any[]
    const spo2 = async () => (await open()).find((a) => a.rule === 'spo2-low')
    await eventually(async () => (await spo2()) !== undefined, 10_000)
    expect(await spo2()).toMatchObject({ patientId: 'p1', severity: 'critical', count: 1 })
    // Read again later, it is not evaluated twice (SpO2 80 % also scores NEWS2 3: medium).
    await new Promise((r) => setTimeout(r, 1500))
    const rules = (await open()).map((a) => [a.rule, a.count]).sort()
    expect(rules).toEqual([
      ['news2', 1],
      ['spo2-low', 1],
    ])
  })
})
