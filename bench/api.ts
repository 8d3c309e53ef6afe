// API latency bench: p99 of the worklist (GET /api/patients, 1,000 patients) and of 100-entry pages of a
// FHIR Observation search over one patient's year of minute-level readings (525,600), first and deep.
// Readings go straight into the store (not through MQTT); requests go over real loopback HTTP.
//
//   node bench/api.ts            (full size; about a minute to fill the store)
//   BENCH_READINGS=50000 node bench/api.ts   (smaller history for a quick look)
//   BENCH_ONLY=worklist node bench/api.ts     (only the measurements whose name starts with this)
//   BENCH_PROFILE=/tmp/aprof node bench/api.ts   (a .cpuprofile of each measured loop, nothing else)
//   BENCH_CLIENT=worker node bench/api.ts   (the client on a worker thread; see below)
//
// By default the client shares the server's thread, so its work and its garbage (a 1.1 MiB worklist body
// is read into several buffers per request) count in "main thread" CPU and its collections pause the
// server. BENCH_CLIENT=worker runs it on a worker thread, its own isolate and heap as a real client's own
// process would be: "main thread" CPU is then the server's alone. On a loaded machine the hand-over
// between two threads costs wall time (p50), so the recorded figures use the default.
import fs from 'node:fs'
import http from 'node:http'
import { Session } from 'node:inspector/promises'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import { isMainThread, parentPort, Worker } from 'node:worker_threads'
import { startVitalwire } from '../main.ts'
import { loadConfig } from '../shared/config.ts'
import { createLogger } from '../shared/logger.ts'
import { addUser } from '../shared/provisioning.ts'
import { openEmbeddedStorage } from '../storage/sqlite/index.ts'
import { createSqliteTokenStore } from '../storage/sqlite/tokens.ts'
import { makeReadings } from '../test/helpers/readings.ts'

const PATIENTS = 1000
const YEAR_READINGS = Number(process.env.BENCH_READINGS ?? 525_600)
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 300)
const T0 = Date.parse('2025-11-27T00:00:00Z')
const VITALS = ['heart-rate', 'spo2', 'body-temperature', 'respiratory-rate', 'body-weight'] as const
const ONLY = process.env.BENCH_ONLY
const PROFILE_DIR = process.env.BENCH_PROFILE
const INLINE_CLIENT = process.env.BENCH_CLIENT !== 'worker'

interface Req {
  url: string
  headers: Record<string, string>
}
type Run = { ms: number[]; bytes: number; status?: number }

// node:http with keep-alive, counting the body's bytes as they arrive: undici's fetch + arrayBuffer()
// spent ~6 ms of CPU per 1.1 MiB body and its garbage paused the thread the server shares; a real
// client (a browser) is another process anyway. What is timed is still until the last byte is read.
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
function get(r: Req): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    http
      .get(r.url, { headers: r.headers, agent }, (res) => {
        let bytes = 0
        res.on('data', (chunk: Buffer) => {
          bytes += chunk.length
        })
        res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }))
        res.on('error', reject)
      })
      .on('error', reject)
  })
}

/** Send the requests one after another; each one's time is until its whole body has been read. */
async function send(requests: Req[], warmUp: number): Promise<Run> {
  for (const r of requests.slice(0, warmUp)) await get(r)
  const ms: number[] = []
  let bytes = 0
  for (const r of requests.slice(warmUp)) {
    const t = performance.now()
    const res = await get(r)
    bytes = res.bytes
    ms.push(performance.now() - t)
    if (res.status < 200 || res.status > 299) return { ms, bytes, status: res.status }
  }
  return { ms, bytes }
}

if (!isMainThread)
  parentPort!.on('message', async (m: { requests: Req[]; warmUp: number }) =>
    parentPort!.postMessage(await send(m.requests, m.warmUp)),
  )

let client: Worker | undefined
function clientSend(requests: Req[], warmUp: number): Promise<Run> {
  if (INLINE_CLIENT) return send(requests, warmUp)
  client ??= new Worker(new URL(import.meta.url), { execArgv: [] })
  return new Promise((resolve, reject) => {
    client!.once('message', resolve)
    client!.once('error', reject)
    client!.postMessage({ requests, warmUp })
  })
}

function percentile(sorted: number[], p: number) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]
}

/** Profile only the measured loop (not the fill), so a profile shows what one kind of request costs. */
async function profiled<T>(name: string, run: () => Promise<T>): Promise<T> {
  if (!PROFILE_DIR) return run()
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  try {
    return await run()
  } finally {
    const { profile } = await session.post('Profiler.stop')
    session.disconnect()
    fs.mkdirSync(PROFILE_DIR, { recursive: true })
    const file = path.join(PROFILE_DIR, `${name.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`)
    fs.writeFileSync(file, JSON.stringify(profile))
    console.log(`  profile: ${file}`)
  }
}

async function measure(name: string, n: number, request: (i: number) => Req) {
  if (ONLY && !name.startsWith(ONLY)) return undefined
  const warmUp = Array.from({ length: 20 }, (_, i) => request(i))
  await clientSend(warmUp, warmUp.length)
  const requests = Array.from({ length: n }, (_, i) => request(i))
  return profiled(name, () => loop(name, requests))
}

async function loop(name: string, requests: Req[]) {
  const n = requests.length
  const cpu0 = process.cpuUsage()
  const thread0 = process.threadCpuUsage()
  const { ms, bytes, status } = await clientSend(requests, 0)
  if (status !== undefined) throw new Error(`${name}: HTTP ${status}`)
  const cpu = process.cpuUsage(cpu0)
  const thread = process.threadCpuUsage(thread0)
  // Server and client share this process: CPU time per request is an upper bound of the server's work,
  // and unlike wall time it does not grow when other processes crowd the machine.
  const cpuMsPerRequest = (cpu.user + cpu.system) / 1000 / n
  // The main thread alone (the event loop that serves requests; the client too with BENCH_CLIENT=inline);
  // the rest is the client's thread, GC helpers, the WAL checkpointer and the thread pool.
  const mainThreadCpuMsPerRequest = (thread.user + thread.system) / 1000 / n
  ms.sort((a, b) => a - b)
  const r = {
    cpuMsPerRequest,
    mainThreadCpuMsPerRequest,
    responseBytes: bytes,
    name,
    samples: n,
    p50: percentile(ms, 50),
    p95: percentile(ms, 95),
    p99: percentile(ms, 99),
    max: ms[ms.length - 1],
  }
  console.log(
    `${name.padEnd(48)} p50 ${r.p50.toFixed(1)} ms  p95 ${r.p95.toFixed(1)} ms  p99 ${r.p99.toFixed(1)} ms  cpu/req ${r.cpuMsPerRequest.toFixed(1)} ms (main thread ${r.mainThreadCpuMsPerRequest.toFixed(1)})  ${(r.responseBytes / 1024).toFixed(0)} KiB`,
  )
  return r
}

async function fill(dataDir: string, env: Record<string, string>) {
  const config = loadConfig(env)
  const s = openEmbeddedStorage({ dataDir, dbPath: config.dbPath, dataKey: config.dataKey, outbox: false })
  // Filling is not what is measured: skip the per-commit fsync the server uses.
  s.db.exec('PRAGMA synchronous = OFF')
  const t = performance.now()
  const ids: string[] = []
  for (let i = 0; i < PATIENTS; i++) {
    const id = `p${String(i).padStart(4, '0')}`
    ids.push(id)
    await s.registry.addPatient({ id, name: `Patient ${i}` })
    await s.registry.addDevice({
      id: `d${i}`,
      patientId: id,
      type: 'generic',
      auth: 'secret',
      secretHash: 'x',
    })
    // The latest value of five vitals for every patient: what the worklist shows.
    for (const type of VITALS)
      await s.readings.write([
        ...makeReadings({ patientId: id, deviceId: `d${i}`, type, startMs: T0, stepMs: 60_000, count: 3 }),
      ])
  }
  await s.registry.addPatient({ id: 'year', name: 'Year Patient' })
  await s.registry.addDevice({
    id: 'dy',
    patientId: 'year',
    type: 'generic',
    auth: 'secret',
    secretHash: 'x',
  })
  const gen = makeReadings({
    patientId: 'year',
    deviceId: 'dy',
    type: 'heart-rate',
    startMs: T0,
    stepMs: 60_000,
    count: YEAR_READINGS,
  })
  let batch = []
  for (const o of gen) {
    batch.push(o)
    if (batch.length === 20_000) {
      await s.readings.write(batch)
      batch = []
    }
  }
  await s.readings.write(batch)
  const admin = await addUser(s.registry, {
    email: 'admin@example.org',
    role: 'admin',
    patients: [],
    oneTimePassword: false,
  })
  await addUser(s.registry, { email: 'coord@example.org', role: 'coordinator', patients: [...ids, 'year'] })
  const coord = (await s.registry.getUserByEmail('coord@example.org'))!
  const token = await createSqliteTokenStore(s.db).create(coord.id, 'bench')
  s.close()
  console.log(`filled in ${((performance.now() - t) / 1000).toFixed(1)} s`)
  return { adminPassword: admin.password, token: token.token }
}

async function main() {
  const dataDir = process.env.BENCH_DIR ?? fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-bench-api-'))
  const env = { VITALWIRE_DATA_DIR: dataDir, VITALWIRE_HTTP_PORT: '0', VITALWIRE_LOG_LEVEL: 'warn' }
  const { adminPassword, token } = await fill(dataDir, env)
  const log = createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) })
  const running = await startVitalwire(loadConfig(env), log, new Set(['dashboard']))
  const base = running.httpUrl!
  try {
    const login = await fetch(`${base}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'admin@example.org', password: adminPassword }),
    })
    const cookie = login.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ')
    const bearer = { authorization: `Bearer ${token}` }
    const loadavgAtStart = os.loadavg()
    const results = []
    results.push(
      await measure('worklist, admin session (1,000 patients)', SAMPLES, () => ({
        url: `${base}/api/patients`,
        headers: { cookie },
      })),
    )
    results.push(
      await measure('worklist, coordinator token (1,001 in team)', SAMPLES, () => ({
        url: `${base}/api/patients`,
        headers: bearer,
      })),
    )
    const search = `${base}/fhir/r4/Observation?patient=year&_count=100`
    results.push(
      await measure('FHIR search, first page of 100', SAMPLES, () => ({ url: search, headers: bearer })),
    )
    results.push(
      await measure('FHIR search, first page of 100, -date', SAMPLES, () => ({
        url: `${search}&_sort=-date`,
        headers: bearer,
      })),
    )
    results.push(
      await measure('FHIR search, first page of 100, _total=none', SAMPLES, () => ({
        url: `${search}&_total=none`,
        headers: bearer,
      })),
    )
    // Every request a different date window: Bundle.total counted afresh each time (no count reuse).
    let window = 0
    results.push(
      await measure('FHIR search, first page, uncached count', 100, () => ({
        url: `${search}&date=ge${new Date(T0 + window++ * 60_000).toISOString()}`,
        headers: bearer,
      })),
    )
    // Deep pages: next links from pages far into the history (keyset cursors, not offsets).
    const deepName = 'FHIR search, deep pages via next links'
    const deepLinks: string[] = []
    for (const frac of ONLY && !deepName.startsWith(ONLY) ? [] : [0.25, 0.5, 0.75, 0.99]) {
      const at = new Date(T0 + Math.floor(YEAR_READINGS * frac) * 60_000).toISOString()
      const first = await (await fetch(`${search}&date=ge${at}`, { headers: bearer })).json()
      if (!first.link) throw new Error(JSON.stringify(first))
      deepLinks.push(first.link.find((l: any) => l.relation === 'next').url)
    }
    let walk = `${search}`
    for (let i = 0; deepLinks.length && i < 50; i++) {
      const page = await (await fetch(walk, { headers: bearer })).json()
      walk = page.link.find((l: any) => l.relation === 'next').url
    }
    deepLinks.push(walk)
    results.push(
      await measure(deepName, SAMPLES, (i) => ({ url: deepLinks[i % deepLinks.length], headers: bearer })),
    )
    const out = {
      at: new Date().toISOString(),
      node: process.version,
      machine: {
        cpu: os.cpus()[0]?.model,
        cores: os.cpus().length,
        memGiB: Math.round(os.totalmem() / 2 ** 30),
        platform: `${os.platform()} ${os.release()}`,
      },
      // Wall-clock percentiles depend on what else runs on the machine; CPU per request hardly does.
      loadavgAtStart,
      loadavg: os.loadavg(),
      patients: PATIENTS,
      yearReadings: YEAR_READINGS,
      client: INLINE_CLIENT ? 'inline (the server thread)' : 'worker thread',
      targets: { worklistP99Ms: 20, fhirPageP99Ms: 50 },
      results: results.filter((r) => r !== undefined),
    }
    const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ')
    console.log(
      `node ${out.node}; ${out.machine.cpu} x${out.machine.cores}; load ${load(loadavgAtStart)} at start, ${load(out.loadavg)} at end`,
    )
    // A partial run (BENCH_ONLY) is a look, not a result: it does not replace the recorded figures.
    if (ONLY) return
    fs.mkdirSync(path.join(import.meta.dirname, 'results'), { recursive: true })
    fs.writeFileSync(
      path.join(import.meta.dirname, 'results', 'api.json'),
      `${JSON.stringify(out, null, 2)}\n`,
    )
  } finally {
    await client?.terminate()
    await running.close()
    if (!process.env.BENCH_DIR) fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

if (isMainThread) await main()
