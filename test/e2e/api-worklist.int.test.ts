import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../shared/config.ts'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'
import { type Caller, call } from '../helpers/api-client.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { openWs } from '../helpers/ws-client.ts'

// GET /api/patients is served from a view kept in memory (dashboard/worklist.ts). Whatever changes, the
// next request shows it: a reading once its PUBACK arrived, an alert and each action on it, a patient
// added or changed, a care team changed. No waiting between the change and the request, except for an
// alert, which is raised after the reading's commit and announced on the WebSocket.

describe('worklist freshness', () => {
  let h: Harness
  let admin: Caller
  let coord: Caller
  let coordId: number
  const worklist = async (who: Caller) => {
    const r = await call(h.httpUrl, who, 'GET', '/api/patients')
    expect(r.status).toBe(200)
    expect(r.headers.get('content-type')).toBe('application/json; charset=utf-8')
    return r.body.patients as any[]
  }
  const row = async (who: Caller, id: string) => (await worklist(who)).find((p) => p.id === id)

  beforeEach(async () => {
    h = await startHarness()
    await h.enrollPatient('p1', { name: 'Ada Lovelace' })
    await h.enrollPatient('p2', { name: 'Someone Else' })
    admin = {
      name: 'admin',
      cookie: await h.login('admin@example.org', await h.addUser('admin@example.org', 'admin')),
    }
    const pw = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    coord = { name: 'coord', cookie: await h.login('coord@example.org', pw) }
    const users = await call(h.httpUrl, admin, 'GET', '/api/users')
    coordId = users.body.users.find((u: any) => u.email === 'coord@example.org').id
  })
  afterEach(async () => h.close())

  it('shows a new reading, an alert and its acknowledgement and resolution on the next request', async () => {
    const device = await h.connectDevice('hr-1', await h.enrollDevice('hr-1', 'p1'))
    expect(await worklist(coord)).toEqual([expect.objectContaining({ id: 'p1', latest: {}, openAlerts: 0 })])

    const publish = (id: string, value: number) =>
      device.publishAsync(
        'rpm/v1/devices/hr-1/readings',
        JSON.stringify({ id, type: 'heart-rate', ts: new Date().toISOString(), value, unit: 'bpm' }),
        { qos: 1 },
      )
    await publish('r-1', 72)
    expect((await row(coord, 'p1')).latest['heart-rate']).toMatchObject({
      type: 'heart-rate',
      deviceId: 'hr-1',
      values: { value: 72 },
      unit: '/min',
      flags: [],
    })

    // The worklist's counts against the alert store as GET /api/alerts reads it.
    const live = async () => {
      const rank = { critical: 4, high: 3, medium: 2, low: 1 } as Record<string, number>
      const all = []
      for (const status of ['open', 'acknowledged'])
        all.push(...(await call(h.httpUrl, coord, 'GET', `/api/alerts?status=${status}`)).body.alerts)
      return { openAlerts: all.length, topSeverityRank: Math.max(0, ...all.map((a) => rank[a.severity])) }
    }
    const ws = await openWs(h.httpUrl, coord.cookie!)
    await publish('r-2', 142)
    const alert = (await ws.next((m) => m.type === 'alert' && m.alert.rule === 'hr-high')).alert
    const raised = await row(coord, 'p1')
    expect(raised).toMatchObject({ latest: { 'heart-rate': { values: { value: 142 } } } })
    expect(raised.openAlerts).toBeGreaterThanOrEqual(1)
    expect(raised.topSeverityRank).toBeGreaterThanOrEqual(3)
    // User actions queue behind the reading's evaluation (alerts/index.ts), so after the ack every rule
    // the reading triggered has run: the counts are settled and must equal the store's.
    expect((await call(h.httpUrl, coord, 'POST', `/api/alerts/${alert.id}/ack`, {})).status).toBe(200)
    const acked = await row(coord, 'p1')
    expect(acked).toMatchObject(await live())
    expect((await call(h.httpUrl, coord, 'POST', `/api/alerts/${alert.id}/resolve`, {})).status).toBe(200)
    const resolved = await row(coord, 'p1')
    expect(resolved.openAlerts).toBe(acked.openAlerts - 1)
    expect(resolved).toMatchObject(await live())
    ws.close()
  })

  it('shows patient and care-team changes on the next request, and only the care team', async () => {
    expect((await worklist(admin)).map((p) => p.id)).toEqual(['p1', 'p2'])
    expect(
      (
        await call(h.httpUrl, admin, 'PATCH', '/api/patients/p1', {
          monitoring: false,
          flags: { onOxygen: true },
        })
      ).status,
    ).toBe(200)
    expect(await row(coord, 'p1')).toMatchObject({ monitoring: false, flags: { onOxygen: true } })
    expect(
      (await call(h.httpUrl, admin, 'POST', '/api/patients', { id: 'p3', name: 'New Patient' })).status,
    ).toBe(201)
    expect((await worklist(admin)).map((p) => p.id)).toEqual(['p1', 'p2', 'p3'])
    expect((await worklist(coord)).map((p) => p.id)).toEqual(['p1'])
    // Provisioned by another process (the CLI's way): a second connection to the same file.
    await h.enrollPatient('p4', { name: 'From the CLI' })
    expect((await worklist(admin)).map((p) => p.id)).toEqual(['p1', 'p2', 'p3', 'p4'])

    expect(
      (await call(h.httpUrl, admin, 'PUT', `/api/users/${coordId}/patients`, { patients: ['p3', 'p4'] }))
        .status,
    ).toBe(200)
    expect((await worklist(coord)).map((p) => p.id)).toEqual(['p3', 'p4'])
  })

  it('applies a care-team change made by another process on the next request, by cookie and by token', async () => {
    const token = (
      await call(h.httpUrl, admin, 'POST', '/api/tokens', { email: 'coord@example.org', label: 't' })
    ).body.token
    const machine: Caller = { name: 'coord-token', token }
    const ids = async (who: Caller) => (await worklist(who)).map((p) => p.id)
    expect(await ids(coord)).toEqual(['p1'])
    expect(await ids(machine)).toEqual(['p1'])
    // The CLI's way: a second connection to the same file, no event in this process.
    const config = loadConfig(h.env)
    const other = openEmbeddedStorage({ dataDir: h.dataDir, dbPath: config.dbPath, outbox: false })
    try {
      await other.registry.setCareTeam(coordId, ['p2'])
    } finally {
      await other.close()
    }
    expect(await ids(machine)).toEqual(['p2'])
    expect(await ids(coord)).toEqual(['p2'])
    expect((await call(h.httpUrl, machine, 'GET', '/api/patients/p1')).status).toBe(404)
    expect((await call(h.httpUrl, coord, 'GET', '/api/patients/p2')).status).toBe(200)
    // Through the API as well, and unrelated registry events in between change nothing.
    await h.enrollPatient('p3')
    expect(await ids(machine)).toEqual(['p2'])
    await call(h.httpUrl, admin, 'PUT', `/api/users/${coordId}/patients`, { patients: ['p1', 'p3'] })
    expect(await ids(coord)).toEqual(['p1', 'p3'])
    expect(await ids(machine)).toEqual(['p1', 'p3'])
  })

  it('audits a worklist read as one entry naming every patient it disclosed', async () => {
    await worklist(coord)
    const r = await call(h.httpUrl, admin, 'GET', '/api/audit?action=patients.list&actor=coord@example.org')
    expect(r.body.entries).toEqual([
      expect.objectContaining({ outcome: 'ok', detail: { patients: ['p1'], count: 1 } }),
    ])
  })
})
