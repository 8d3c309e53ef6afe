// Forwarding throughput: the InfluxDB adapter (Point + influxdb-client transport) versus raw /write
// (the same line protocol over fetch) at several batch sizes, then how long a 100,000-reading outbox
// backlog takes to drain through the real forwarder. Starts its own influxd (Debian `influxdb`).
//   node bench/influx-forward.ts            -> prints and writes bench/results/influx-forward.json
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import type { StoredObservation } from '../shared/fhir.ts'
import { createLogger } from '../shared/logger.ts'
import { createMetrics } from '../shared/metrics.ts'
import { createInfluxReadingStore, toLine } from '../storage/influx/index.ts'
import { createOutboxForwarder, DEFAULT_BATCH_SIZE } from '../storage/outbox-forwarder.ts'
import { openDatabase } from '../storage/sqlite/database.ts'
import { createSqliteJournal } from '../storage/sqlite/journal.ts'
import { heartRates, NOW_MS } from '../test/contract/fixtures.ts'
import { startInfluxd, waitFor } from '../test/helpers/influxd.ts'
import { cpuSecondsOf } from './proc.ts'

const N = Number(process.env.BENCH_N ?? 100_000)
const DEVICES = 500
const BATCH_SIZES = [500, 1000, 5000]

function readings(n: number, tag: string): StoredObservation[] {
  const per = Math.ceil(n / DEVICES)
  const out: StoredObservation[] = []
  for (let d = 0; d < DEVICES && out.length < n; d++)
    out.push(...heartRates(`${tag}-dev-${d}`, `${tag}-pat-${d}`, per, NOW_MS - 20 * 86_400_000))
  return out.slice(0, n)
}

const batches = <T>(xs: T[], size: number) =>
  Array.from({ length: Math.ceil(xs.length / size) }, (_, i) => xs.slice(i * size, (i + 1) * size))

const influxd = await startInfluxd()
const loadBefore = os.loadavg()
const t0 = performance.now()
const data = readings(N, 'b')
const bytesPerLine = Math.round(data.slice(0, 1000).reduce((n, o) => n + toLine(o).length, 0) / 1000)
console.log(`generated ${N} readings in ${Math.round(performance.now() - t0)} ms; ~${bytesPerLine} B/line`)

let dbSeq = 0
async function freshDb() {
  const name = `bench_${dbSeq++}`
  await influxd.query(`CREATE DATABASE "${name}"`)
  return name
}

/** Run `work(i)` for i in [0, n) with `inFlight` at a time, in order of i. */
async function inOrder(n: number, inFlight: number, work: (i: number) => Promise<void>) {
  let next = 0
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < n) await work(next++)
    }),
  )
}

async function raw(size: number, inFlight = 1, lines: (o: StoredObservation) => string = toLine) {
  const db = await freshDb()
  const bodies = batches(data, size).map((b) => b.map(lines).join('\n'))
  const start = performance.now()
  await inOrder(bodies.length, inFlight, async (i) => {
    const res = await fetch(`${influxd.url}/write?db=${db}&precision=ns`, { method: 'POST', body: bodies[i] })
    if (res.status !== 204) throw new Error(`raw write ${res.status}: ${await res.text()}`)
  })
  return N / ((performance.now() - start) / 1000)
}

/** The same series and timestamps with only the numeric value: what "raw InfluxDB speed" usually means. */
const smallLine = (o: StoredObservation) => toLine(o).replace(/ key=.*,value=/, ' value=')

/** The adapter from StoredObservation on: Point, line protocol, the client's transport. */
async function adapter(size: number, inFlight = 1) {
  const store = createInfluxReadingStore({ url: influxd.url, database: await freshDb() })
  const bs = batches(data, size)
  const start = performance.now()
  await inOrder(bs.length, inFlight, (i) => store.write(bs[i]))
  const perS = N / ((performance.now() - start) / 1000)
  await store.close()
  return perS
}

async function drain() {
  const database = await freshDb()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-bench-'))
  const db = openDatabase(path.join(dir, 'v.db'))
  const journal = createSqliteJournal(db, { outbox: true })
  for (const b of batches(data, 5000)) await journal.commit({ accepted: b, deadLetters: [] })
  const store = createInfluxReadingStore({ url: influxd.url, database })
  let influxMs = 0
  const sink = {
    async write(b: StoredObservation[]) {
      const s = performance.now()
      await store.write(b)
      influxMs += performance.now() - s
    },
  }
  const log = createLogger({ level: 'warn', destination: new Writable({ write: (_c, _e, cb) => cb() }) })
  const fwd = createOutboxForwarder({ db, sink, log, metrics: createMetrics() })
  // Cheap emptiness check (status() counts the whole outbox, which would tax the drain it measures).
  const queued = db.prepare('SELECT EXISTS (SELECT 1 FROM outbox) AS q')
  const influxdPid = influxd.pid()
  if (!influxdPid) throw new Error('influxd is not running')
  const influxdCpu0 = cpuSecondsOf(influxdPid)
  const cpu0 = process.cpuUsage()
  const start = performance.now()
  fwd.start()
  await waitFor(() => (queued.get() as { q: number }).q === 0, 120_000, 'drain')
  const wallMs = performance.now() - start
  const cpu = process.cpuUsage(cpu0)
  const influxdCpuMs = (cpuSecondsOf(influxdPid) - influxdCpu0) * 1000
  await fwd.close()
  const stored = await store.count({})
  await store.close()
  db.close()
  fs.rmSync(dir, { recursive: true, force: true })
  if (stored !== N) throw new Error(`drained ${stored} of ${N}`)
  return {
    wallMs: Math.round(wallMs),
    influxWriteMs: Math.round(influxMs),
    influxdCpuMs: Math.round(influxdCpuMs),
    forwarderCpuMs: Math.round((cpu.user + cpu.system) / 1000),
  }
}

// The machine is shared: each figure is the best of ROUNDS runs, raw and adapter interleaved.
const ROUNDS = 2
const best = async (fn: () => Promise<number>) => {
  let top = 0
  for (let r = 0; r < ROUNDS; r++) top = Math.max(top, await fn())
  return Math.round(top)
}
// Both one request at a time (the adapter serializes while InfluxDB waits) and two in flight (how
// the forwarder drives it: the next batch is serialized while InfluxDB takes the previous one).
const throughput = []
for (const inFlight of [1, 2])
  for (const size of BATCH_SIZES) {
    let rawPerS = 0
    let adapterPerS = 0
    for (let r = 0; r < ROUNDS; r++) {
      rawPerS = Math.max(rawPerS, Math.round(await raw(size, inFlight)))
      adapterPerS = Math.max(adapterPerS, Math.round(await adapter(size, inFlight)))
    }
    const ratio = +(adapterPerS / rawPerS).toFixed(2)
    throughput.push({ batchSize: size, inFlight, rawPerS, adapterPerS, ratio })
    console.log(
      `batch ${size}, ${inFlight} in flight: raw /write ${rawPerS}/s, adapter ${adapterPerS}/s, ratio ${ratio} (same ~${bytesPerLine} B lines)`,
    )
  }
const rawSmallPerS = await best(() => raw(DEFAULT_BATCH_SIZE, 1, smallLine))
console.log(
  `batch ${DEFAULT_BATCH_SIZE}, value-only lines (no Observation facts): raw /write ${rawSmallPerS}/s`,
)
let backlog = await drain()
for (let r = 1; r < ROUNDS; r++) {
  const again = await drain()
  if (again.wallMs < backlog.wallMs) backlog = again
}
console.log(
  `${N}-reading backlog at batch ${DEFAULT_BATCH_SIZE}: ${backlog.wallMs} ms wall; influxd ${backlog.influxdCpuMs} ms CPU, forwarder ${backlog.forwarderCpuMs} ms CPU; ${backlog.influxWriteMs} ms in write calls (summed over requests in flight)`,
)
await influxd.close()

const result = {
  at: new Date().toISOString(),
  machine: {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model,
    memGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    node: process.version,
    influxd: execFileSync('influxd', ['version'], { encoding: 'utf8' }).trim(),
    loadavgBefore: loadBefore.map((x) => +x.toFixed(2)),
    loadavgAfter: os.loadavg().map((x) => +x.toFixed(2)),
    uptime: execFileSync('uptime', { encoding: 'utf8' }).trim(),
    note: 'shared machine: other engineers run tests concurrently',
  },
  readings: N,
  devices: DEVICES,
  bytesPerLine,
  throughput,
  rawValueOnlyLinesPerS: { batchSize: DEFAULT_BATCH_SIZE, perS: rawSmallPerS },
  backlog: { readings: N, batchSize: DEFAULT_BATCH_SIZE, ...backlog },
}
console.log(JSON.stringify(result.machine))
const out = path.join(import.meta.dirname, 'results', 'influx-forward.json')
fs.mkdirSync(path.dirname(out), { recursive: true })
fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
console.log(`wrote ${out}`)
