import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createLogger } from '../shared/logger.ts'
import { createMetrics } from '../shared/metrics.ts'
import { heartRates, ids, NOW_MS, observe } from '../test/contract/fixtures.ts'
import { type Influxd, startInfluxd, waitFor } from '../test/helpers/influxd.ts'
import { requireBinary } from '../test/helpers/requirements.ts'
import { createInfluxReadingStore } from './influx/index.ts'
import { createOutboxForwarder } from './outbox-forwarder.ts'
import { openDatabase } from './sqlite/database.ts'
import { createSqliteJournal } from './sqlite/journal.ts'

/**
 * A real HTTP hop in front of influxd that answers the first /write requests from a script: a status
 * answers instead of influxd; a delay holds the request that long before passing it on.
 */
function faultProxy(
  target: string,
  script: { status?: number; delayMs?: number; headers?: Record<string, string> }[],
) {
  const writes: number[] = []
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', async () => {
      const body = Buffer.concat(chunks)
      if (req.url?.startsWith('/write')) {
        writes.push(Date.now())
        const fault = script.shift()
        if (fault?.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs))
        if (fault?.status) {
          res.writeHead(fault.status, { 'content-type': 'application/json', ...fault.headers })
          res.end(JSON.stringify({ error: `injected ${fault.status}` }))
          return
        }
      }
      const up = await fetch(`${target}${req.url}`, {
        method: req.method,
        headers: { 'content-type': String(req.headers['content-type'] ?? 'text/plain') },
        body: req.method === 'GET' ? undefined : body,
      })
      res.writeHead(up.status, { 'content-type': up.headers.get('content-type') ?? 'text/plain' })
      res.end(Buffer.from(await up.arrayBuffer()))
    })
  })
  return new Promise<{ url: string; writes: number[]; close(): Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        writes,
        close: () => new Promise((r) => server.close(() => r())),
      }),
    ),
  )
}

describe.runIf(requireBinary('influxd'))('outbox forwarder (real influxd, real SQLite)', () => {
  let influxd: Influxd
  beforeAll(async () => {
    influxd = await startInfluxd()
  })
  afterAll(async () => influxd?.close())

  let dir: string
  let database: string
  let closers: (() => Promise<void> | void)[]
  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-fwd-'))
    database = `f_${randomUUID().slice(0, 8)}`
    await influxd.query(`CREATE DATABASE "${database}"`)
    closers = []
  })
  afterEach(async () => {
    for (const c of closers.reverse()) await c()
    await influxd.start()
    await influxd.query(`DROP DATABASE "${database}"`)
    fs.rmSync(dir, { recursive: true, force: true })
  })

  function setup(url = influxd.url, options: Parameters<typeof createOutboxForwarder>[1] = {}) {
    const db = openDatabase(path.join(dir, 'v.db'))
    const journal = createSqliteJournal(db, { outbox: true })
    const store = createInfluxReadingStore({ url, database })
    const metrics = createMetrics()
    const logs: any[] = []
    const sink = new Writable({
      write(chunk, _e, cb) {
        for (const l of String(chunk).split('\n')) if (l) logs.push(JSON.parse(l))
        cb()
      },
    })
    const log = createLogger({ level: 'debug', destination: sink })
    const fwd = createOutboxForwarder({ db, sink: store, log, metrics }, { maxDelayMs: 500, ...options })
    closers.push(async () => {
      await fwd.close()
      await store.close()
      db.close()
    })
    const count = () => createInfluxReadingStore({ url: influxd.url, database }).count({})
    const backlog = () => (db.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n
    const deadLetters = () => db.prepare('SELECT * FROM dead_letters').all() as any[]
    return { db, journal, store, metrics, logs, fwd, count, backlog, deadLetters }
  }

  it('forwards committed readings in batches and empties the outbox', async () => {
    const proxy = await faultProxy(influxd.url, [])
    closers.push(() => proxy.close())
    const s = setup(proxy.url, { batchSize: 1000 })
    const { patient, device } = ids()
    await s.journal.commit({
      accepted: heartRates(device, patient, 2500, NOW_MS - 5 * 86_400_000),
      deadLetters: [],
    })
    expect(s.fwd.check()).toMatchObject({ ok: true })
    s.fwd.start()
    await waitFor(() => s.backlog() === 0, 20_000, 'outbox drained')
    expect(await s.count()).toBe(2500)
    expect(proxy.writes).toHaveLength(3)
    expect((await s.metrics.forwarded.get()).values[0].value).toBe(2500)
    expect(s.fwd.status()).toMatchObject({ reachable: true, backlog: 0 })
    expect((await s.metrics.outboxBacklog.get()).values[0].value).toBe(0)
  })

  it('keeps two requests in flight; a batch that fails stays queued while the other settles', async () => {
    const proxy = await faultProxy(influxd.url, [{ status: 503 }])
    closers.push(() => proxy.close())
    const s = setup(proxy.url, { batchSize: 1000, baseDelayMs: 2000, maxDelayMs: 2000, random: () => 1 })
    const { patient, device } = ids()
    await s.journal.commit({
      accepted: heartRates(device, patient, 2000, NOW_MS - 5 * 86_400_000),
      deadLetters: [],
    })
    s.fwd.start()
    // The two batches went out together: one landed while the other's failure is still unretried
    // (one at a time, the backlog reaches 1,000 only once the failed batch is retried, clearing the error).
    await waitFor(
      () => s.backlog() === 1000 && s.fwd.status().lastError !== undefined,
      5000,
      'one batch settled, the other queued',
    )
    expect(await s.count()).toBe(1000)
    await waitFor(() => s.backlog() === 0, 20_000, 'outbox drained')
    expect(proxy.writes).toHaveLength(3)
    expect(await s.count()).toBe(2000)
  })

  it('sends the next batch as soon as one settles, not when the slowest of the round does', async () => {
    const proxy = await faultProxy(influxd.url, [{ delayMs: 3000 }])
    closers.push(() => proxy.close())
    const s = setup(proxy.url, { batchSize: 1000, concurrency: 2 })
    const { patient, device } = ids()
    await s.journal.commit({
      accepted: heartRates(device, patient, 3000, NOW_MS - 5 * 86_400_000),
      deadLetters: [],
    })
    s.fwd.start()
    // Batch 1 is held in the proxy; batch 2 lands, which frees a slot for batch 3, which lands too.
    await waitFor(() => s.backlog() === 1000, 2800, 'batches 2 and 3 settled while batch 1 is held')
    expect(proxy.writes).toHaveLength(3)
    expect(await s.count()).toBe(2000)
    await waitFor(() => s.backlog() === 0, 5000, 'outbox drained')
    expect(await s.count()).toBe(3000)
    expect(proxy.writes).toHaveLength(3)
  })

  it('bisects a rejected batch, dead-letters only the bad reading and keeps the queue flowing', async () => {
    const s = setup()
    const { patient, device } = ids()
    const weight = observe(device, patient, {
      id: 'w',
      type: 'body-weight',
      value: 80,
      unit: 'kg',
      ts: NOW_MS - 1000,
    })
    // Poison: `value` already a string in this shard, so InfluxDB refuses the float (field type conflict).
    const poison = await influxd.write(
      database,
      `body-weight,patient_id=x,device_id=y value="oops" ${(NOW_MS - 5000) * 1e6}`,
    )
    expect(poison.status).toBe(204)
    const hr = heartRates(device, patient, 40, NOW_MS - 3_600_000)
    await s.journal.commit({ accepted: [...hr.slice(0, 17), ...weight, ...hr.slice(17)], deadLetters: [] })
    s.fwd.start()
    await waitFor(() => s.backlog() === 0, 20_000, 'outbox drained')
    expect(await s.store.count({ patientIds: [patient], types: ['heart-rate'] })).toBe(40)
    const [dl] = s.deadLetters()
    expect(s.deadLetters()).toHaveLength(1)
    expect(dl).toMatchObject({ device_id: device, reading_id: 'w', code: 'VW_ERR_STORAGE_REJECTED' })
    expect(dl.reason).toMatch(/field type conflict/)
    expect(JSON.parse(Buffer.from(dl.payload).toString()).key).toBe(weight[0].key)
    // Later readings still flow.
    await s.journal.commit({
      accepted: heartRates(device, patient, 45, NOW_MS - 7_200_000).slice(40),
      deadLetters: [],
    })
    await waitFor(() => s.backlog() === 0, 20_000, 'outbox drained again')
    expect(await s.store.count({ patientIds: [patient] })).toBe(45)
    expect(JSON.stringify(s.logs)).not.toContain(patient)
  })

  it('honours Retry-After on 429 and backs off on 503, then delivers everything once', async () => {
    const proxy = await faultProxy(influxd.url, [
      { status: 429, headers: { 'retry-after': '1' } },
      { status: 503 },
      { status: 500 },
    ])
    closers.push(() => proxy.close())
    const s = setup(proxy.url)
    const { patient, device } = ids()
    await s.journal.commit({ accepted: heartRates(device, patient, 10, NOW_MS - 600_000), deadLetters: [] })
    s.fwd.start()
    await waitFor(() => proxy.writes.length >= 1, 5000, 'first write')
    await waitFor(() => s.fwd.check().degraded, 5000, 'degraded')
    await waitFor(() => s.backlog() === 0, 20_000, 'outbox drained')
    expect(proxy.writes).toHaveLength(4)
    expect(proxy.writes[1] - proxy.writes[0]).toBeGreaterThanOrEqual(1000)
    expect(await s.count()).toBe(10)
    expect(s.deadLetters()).toHaveLength(0)
    expect(s.fwd.check()).toEqual({ ok: true, degraded: false, detail: undefined })
  })

  it('keeps retrying a missing database (404) instead of dead-lettering, and drains once it exists', async () => {
    await influxd.query(`DROP DATABASE "${database}"`)
    const s = setup()
    const { patient, device } = ids()
    await s.journal.commit({ accepted: heartRates(device, patient, 5, NOW_MS - 600_000), deadLetters: [] })
    s.fwd.start()
    await waitFor(() => s.fwd.status().lastError?.startsWith('VW_ERR_STORAGE_CONFIG') ?? false, 5000, '404')
    expect(s.logs.some((l) => l.level === 50 && l.code === 'VW_ERR_STORAGE_CONFIG')).toBe(true)
    expect(s.fwd.check()).toEqual({
      ok: true,
      degraded: true,
      detail: expect.stringMatching(
        /^InfluxDB refuses the configured credentials or database, or INFLUX_URL is not an InfluxDB \(INFLUX_\*\): 5 readings queued, oldest \d+ s$/,
      ),
    })
    await influxd.query(`CREATE DATABASE "${database}"`)
    await waitFor(() => s.backlog() === 0, 20_000, 'outbox drained')
    expect(await s.count()).toBe(5)
    expect(s.deadLetters()).toHaveLength(0)
  })

  it('keeps a batch that something other than InfluxDB answered 200 (not 204), and sends it again', async () => {
    // A reverse proxy's maintenance page, or INFLUX_URL pointing at another service, says 200 OK.
    const proxy = await faultProxy(influxd.url, [{ status: 200 }, { status: 200 }])
    closers.push(() => proxy.close())
    const s = setup(proxy.url, { baseDelayMs: 100, maxDelayMs: 100 })
    const { patient, device } = ids()
    await s.journal.commit({
      accepted: heartRates(device, patient, 50, NOW_MS - 86_400_000),
      deadLetters: [],
    })
    s.fwd.start()
    await waitFor(() => s.fwd.status().lastError?.startsWith('VW_ERR_STORAGE_CONFIG') ?? false, 5000, '200')
    expect(s.fwd.status().lastError).toContain('answered 200 to a write, not 204')
    // Nothing left the outbox on the 200s; the third try reaches influxd and drains it.
    await waitFor(() => s.backlog() === 0, 20_000, 'outbox drained')
    expect(proxy.writes.length).toBeGreaterThanOrEqual(3)
    expect(await s.count()).toBe(50)
    expect((await s.metrics.forwarded.get()).values[0].value).toBe(50)
  })

  it('reports degraded while influxd is down with nothing queued, and recovers when it is back', async () => {
    const s = setup(influxd.url, { idlePollMs: 50, probeMs: 100 })
    s.fwd.start()
    await waitFor(() => s.fwd.status().reachable, 5000, 'reachable')
    expect(s.fwd.check()).toMatchObject({ ok: true, degraded: false })
    // A quiet hour: nothing to forward, and InfluxDB (every history and FHIR read) is down.
    await influxd.stop()
    await waitFor(() => !s.fwd.status().reachable, 5000, 'unreachable')
    expect(s.fwd.check()).toEqual({
      ok: true,
      degraded: true,
      detail: 'InfluxDB unreachable: 0 readings queued, oldest 0 s',
    })
    await influxd.start()
    await waitFor(() => s.fwd.status().reachable, 5000, 'reachable again')
    expect(s.fwd.check()).toMatchObject({ degraded: false })
  })

  it('reports degraded with the backlog while influxd is down and drains when it is back', async () => {
    const s = setup()
    const { patient, device } = ids()
    s.fwd.start()
    await influxd.stop()
    await s.journal.commit({
      accepted: heartRates(device, patient, 300, NOW_MS - 86_400_000),
      deadLetters: [],
    })
    await waitFor(() => !s.fwd.status().reachable, 5000, 'unreachable')
    const check = s.fwd.check()
    expect(check).toMatchObject({ ok: true, degraded: true })
    expect(check.detail).toMatch(/unreachable: 300 readings queued/)
    expect((await s.metrics.outboxBacklog.get()).values[0].value).toBe(300)
    await influxd.start()
    await waitFor(() => s.backlog() === 0, 20_000, 'outbox drained')
    expect(await s.count()).toBe(300)
    expect(s.fwd.check().degraded).toBe(false)
  })
})
