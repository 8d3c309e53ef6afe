import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import fastJson from 'fast-json-stringify'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { DashboardDeps } from '../../dashboard/deps.ts'
import { json, worklistSchema } from '../../dashboard/schemas.ts'
import { patientView, readingView } from '../../dashboard/views.ts'
import { createWorklist } from '../../dashboard/worklist.ts'
import type { Alert } from '../../shared/alert.ts'
import type { VitalType } from '../../shared/catalog.ts'
import { EventBus } from '../../shared/events.ts'
import { pruneReadings } from '../../storage/retention.ts'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'
import { createSqliteLatestIndex } from '../../storage/sqlite/latest.ts'
import { alertFixture } from '../contract/fixtures.ts'
import { makeReadings } from '../helpers/readings.ts'

// The worklist is a view kept in memory; these tests change the stores the way other code does (through
// a second connection, as the CLI or another process would, and through the server's own) and check
// that the next render shows exactly what a fresh read of the stores gives, in the schema's shape.

const T0 = Date.parse('2026-11-20T08:00:00Z')
const DAY_MS = 86_400_000
type Storage = ReturnType<typeof openEmbeddedStorage>

let dir: string
let server: Storage
let other: Storage

function open() {
  return openEmbeddedStorage({ dataDir: dir, dbPath: path.join(dir, 'v.db'), outbox: false })
}

function depsOf(s: Storage, index = true): DashboardDeps {
  const deps = {
    registry: s.registry,
    readings: s.readings,
    alertStore: s.alerts,
    latestIndex: index ? createSqliteLatestIndex(s.db) : undefined,
    events: new EventBus(),
  }
  return deps as unknown as DashboardDeps
}

function reading(patientId: string, type: VitalType, atMs: number, value = 70, n = 0) {
  const [o] = makeReadings({
    patientId,
    deviceId: `d-${patientId}`,
    type,
    startMs: atMs,
    stepMs: 1,
    count: 1,
    value: () => ({ value }),
  })
  return { ...o, key: `${o.key}-${atMs}-${n}`, id: `${o.id}-${atMs}-${n}` }
}

function alert(patientId: string, severity: Alert['severity'], status: Alert['status'] = 'open'): Alert {
  return alertFixture(
    {
      id: `a-${patientId}-${severity}-${Math.random()}`,
      patientId,
      rule: `rule-${severity}-${Math.random()}`,
      severity,
      status,
    },
    new Date(T0).toISOString(),
  )
}

/** What the route served before the view: a fresh read of every store, through Fastify's serializer. */
const serialize = fastJson(json(worklistSchema, 'output') as any)
async function reference(s: Storage, scope?: string[]) {
  const patients = await s.registry.listPatients(scope)
  const ids = patients.map((p) => p.id)
  const latest = await s.readings.latest(ids)
  const live = [
    ...(await s.alerts.list({ patientIds: scope, status: 'open', limit: 10_000 })),
    ...(await s.alerts.list({ patientIds: scope, status: 'acknowledged', limit: 10_000 })),
  ]
  const rank = { critical: 4, high: 3, medium: 2, low: 1 }
  return JSON.parse(
    serialize({
      patients: patients.map((p) => {
        const mine = live.filter((a) => a.patientId === p.id)
        return {
          ...patientView(p),
          latest: Object.fromEntries(
            latest.filter((o) => o.patientId === p.id).map((o) => [o.type, readingView(o)]),
          ),
          openAlerts: mine.length,
          topSeverityRank: Math.max(0, ...mine.map((a) => rank[a.severity])),
        }
      }),
    }),
  )
}

async function render(w: ReturnType<typeof createWorklist>, scope?: string[]) {
  // Always with a key: a kept body must never hide a change.
  const r = await w.render(scope ? new Set(scope) : null, 'viewer')
  const body = JSON.parse(r.json.toString('utf8'))
  expect(worklistSchema.parse(body)).toEqual(body)
  return body
}

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-worklist-'))
  server = open()
  other = open()
  for (const id of ['p1', 'p2', 'p3']) await other.registry.addPatient({ id, name: `Patient ${id} ✓` })
  await other.readings.write([
    reading('p1', 'heart-rate', T0),
    reading('p1', 'spo2', T0),
    reading('p2', 'heart-rate', T0),
  ])
})

afterEach(() => {
  server.close()
  other.close()
  fs.rmSync(dir, { recursive: true, force: true })
})

describe('worklist view', () => {
  it('serves what a fresh read of the stores gives, in the shape of worklistSchema', async () => {
    await other.alerts.insert(alert('p1', 'high'))
    await other.alerts.insert(alert('p1', 'critical', 'acknowledged'))
    await other.alerts.insert(alert('p2', 'low', 'resolved'))
    for (const index of [true, false]) {
      const w = createWorklist(depsOf(server, index))
      expect(await render(w)).toEqual(await reference(server))
      expect(await render(w, ['p2', 'p3', 'nobody'])).toEqual(await reference(server, ['p2', 'p3', 'nobody']))
      expect((await render(w, [])).patients).toEqual([])
    }
  })

  it('shows a new reading, an alert change and a patient change on the next request (another connection)', async () => {
    const w = createWorklist(depsOf(server))
    await render(w)
    await other.readings.write([reading('p3', 'body-weight', T0 + 1000, 80)])
    await other.readings.write([reading('p1', 'heart-rate', T0 + 2000, 99)])
    const a = alert('p2', 'medium')
    await other.alerts.insert(a)
    await other.registry.setMonitoring('p3', false)
    await other.registry.addPatient({ id: 'p4', name: 'New patient' })
    let body = await render(w)
    expect(body).toEqual(await reference(server))
    expect(body.patients.find((p: any) => p.id === 'p1').latest['heart-rate'].values).toEqual({ value: 99 })
    expect(body.patients.find((p: any) => p.id === 'p2')).toMatchObject({ openAlerts: 1, topSeverityRank: 2 })
    expect(body.patients.find((p: any) => p.id === 'p3')).toMatchObject({ monitoring: false })
    expect(body.patients.map((p: any) => p.id)).toContain('p4')

    await other.alerts.update({ ...a, status: 'resolved' })
    await other.registry.setPatientFlags('p1', { onOxygen: true })
    body = await render(w)
    expect(body).toEqual(await reference(server))
    expect(body.patients.find((p: any) => p.id === 'p2')).toMatchObject({ openAlerts: 0, topSeverityRank: 0 })
    expect(body.patients.find((p: any) => p.id === 'p1').flags).toEqual({ onOxygen: true })
  })

  it('shows an alert change alone (no reading, no patient change) on the next request', async () => {
    const w = createWorklist(depsOf(server))
    await render(w)
    const a = alert('p3', 'low')
    await other.alerts.insert(a)
    expect((await render(w)).patients[2]).toMatchObject({ openAlerts: 1, topSeverityRank: 1 })
    await other.alerts.update({ ...a, severity: 'critical' })
    expect((await render(w)).patients[2]).toMatchObject({ openAlerts: 1, topSeverityRank: 4 })
    await other.alerts.update({ ...a, status: 'resolved' })
    expect(await render(w)).toEqual(await reference(server))
  })

  it('shows changes made through its own connection on the next request', async () => {
    const w = createWorklist(depsOf(server))
    await render(w)
    await server.readings.write([reading('p2', 'spo2', T0 + 5000, 91)])
    await server.alerts.insert(alert('p3', 'critical'))
    await server.registry.setMonitoring('p1', false)
    expect(await render(w)).toEqual(await reference(server))
  })

  it('keeps the latest reading as latest_readings does: older ones do not replace it, equal times do', async () => {
    const w = createWorklist(depsOf(server))
    await render(w)
    await other.readings.write([reading('p1', 'heart-rate', T0 - 60_000, 50)])
    expect(await render(w)).toEqual(await reference(server))
    await other.readings.write([reading('p1', 'heart-rate', T0, 51, 1)])
    const body = await render(w)
    expect(body).toEqual(await reference(server))
    expect(body.patients[0].latest['heart-rate'].values).toEqual({ value: 51 })
  })

  it('drops a latest reading that retention pruned', async () => {
    await other.readings.write([reading('p3', 'spo2', T0 + 40 * DAY_MS)])
    const w = createWorklist(depsOf(server))
    expect((await render(w)).patients[0].latest['heart-rate']).toBeDefined()
    await pruneReadings(other.db, { retentionMs: 35 * DAY_MS, nowMs: T0 + 70 * DAY_MS })
    const body = await render(w)
    expect(body).toEqual(await reference(server))
    expect(body.patients[0].latest).toEqual({})
  })

  it('sees a reading whose rowid was used before (the newest row deleted, then a new one)', async () => {
    const w = createWorklist(depsOf(server))
    await render(w)
    const r = reading('p3', 'spo2', T0 + 1000, 97)
    await other.readings.write([r])
    await render(w)
    other.db.prepare('DELETE FROM readings WHERE key = ?').run(r.key)
    other.db.prepare('DELETE FROM latest_readings WHERE key = ?').run(r.key)
    await other.readings.write([reading('p3', 'body-weight', T0 + 2000, 81)])
    const body = await render(w)
    expect(body).toEqual(await reference(server))
    expect(Object.keys(body.patients[2].latest)).toEqual(['body-weight'])
  })

  it('a request that arrives while another renders sees what was committed before it arrived', async () => {
    const w = createWorklist(depsOf(server))
    const first = w.render(null)
    await other.readings.write([reading('p2', 'spo2', T0 + 3000, 88)])
    const second = render(w)
    await first
    expect((await second).patients[1].latest.spo2.values).toEqual({ value: 88 })
  })
})
