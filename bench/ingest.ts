import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import mqtt, { type MqttClient } from 'mqtt'
import { COMPONENTS, startVitalwire } from '../main.ts'
import { loadConfig } from '../shared/config.ts'
import { createLogger } from '../shared/logger.ts'
import { enrollDevice } from '../shared/provisioning.ts'
import { openEmbeddedStorage } from '../storage/sqlite/index.ts'
import { cpuSecondsOf } from './proc.ts'

// Ingest benchmark: accepted readings/s end to end (TLS, QoS 1, 4 publishers x 100 in flight, one
// reading per message) with durable acceptance on and off, and publish-to-PUBACK latency at a fixed
// 5,000 readings/s. The server runs in a child process (this file with --serve); the load generator is
// this process. `node bench/ingest.ts [--seconds 10] [--rounds 1] [--only broker,ingest] [--out ingest.json] [--paced-only | --saturated-only]` prints
// the results and writes bench/results/<out>. Durable acceptance off exists only here, to measure what it costs.
// --rounds N runs durable and off alternately N times and reports the median run of each (and every
// round): this VM's speed drifts by several per cent from minute to minute, and alternating keeps the
// drift out of the comparison.

const PUBLISHERS = 4
const IN_FLIGHT = 100
const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : fallback
}
const SECONDS = Number(arg('seconds', '10'))
const only = arg('only', COMPONENTS.join(','))
const out = arg('out', 'ingest.json')
const ROUNDS = Math.max(1, Number(arg('rounds', '1')))

async function serve() {
  const config = loadConfig(process.env)
  const log = createLogger({ level: 'warn' })
  const running = await startVitalwire(config, log, new Set(only.split(',') as any), {
    durableAcceptance: arg('durable', 'true') === 'true',
  })
  process.stdout.write(`${JSON.stringify({ status: 'ready', port: running.mqttPort, ca: running.caCert })}\n`)
  process.once('SIGTERM', async () => {
    await running.close()
    process.exit(0)
  })
}

async function provision(dataDir: string) {
  const config = loadConfig({ VITALWIRE_DATA_DIR: dataDir })
  const s = openEmbeddedStorage({ dataDir, dbPath: config.dbPath, outbox: false })
  await s.registry.addPatient({ id: 'bench', name: 'Bench Patient' })
  const out: [string, string][] = []
  for (let i = 0; i < PUBLISHERS; i++) {
    const d = await enrollDevice(s.registry, {
      ...{ id: `bench-${i}`, patientId: 'bench', type: 'generic', auth: 'secret', pkiDir: config.pkiDir },
    })
    if (d.auth === 'secret') out.push([d.id, d.secret])
  }
  s.close()
  return out
}

async function startServer(dataDir: string, durable: boolean) {
  const child: ChildProcess = spawn(
    process.execPath,
    [import.meta.filename, '--serve', '--durable', String(durable), '--only', only],
    {
      env: {
        ...process.env,
        VITALWIRE_DATA_DIR: dataDir,
        VITALWIRE_MQTT_PORT: '0',
        VITALWIRE_HTTP_PORT: '0',
        VITALWIRE_MQTT_RATE_PER_S: '1000000',
        VITALWIRE_MQTT_BURST: '1000000',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  )
  const ready = await new Promise<{ port: number; ca: string }>((resolve, reject) => {
    child.once('exit', (c) => reject(new Error(`server exited with ${c}`)))
    createInterface({ input: child.stdout! }).on('line', (l) => {
      if (l.startsWith('{"status":"ready"')) resolve(JSON.parse(l))
    })
  })
  const exited = new Promise((r) => child.once('exit', r))
  const stop = () => {
    child.kill('SIGTERM')
    return exited
  }
  return { ...ready, stop, pid: child.pid as number }
}

interface Stats {
  acked: number
  latenciesUs: number[]
}

let drives = 0

/** Keep `inFlight` publishes outstanding (or pace to `ratePerS`) for `seconds`; collect latencies. */
function drive(
  client: MqttClient,
  id: string,
  seconds: number,
  opts: { inFlight: number; ratePerS?: number },
) {
  const stats: Stats = { acked: 0, latenciesUs: [] }
  const end = performance.now() + seconds * 1000
  // Each drive its own ids: the warm-up and the measured run share the server, and an id sent again with
  // other content is a conflict the server sets aside (VW_ERR_INGEST_ID_REUSED), not a reading.
  const drive = ++drives
  let seq = 0
  let outstanding = 0
  return new Promise<Stats>((resolve) => {
    const one = () => {
      const rid = `${id}-${process.pid}-${drive}-${seq++}`
      const payload = `{"id":"${rid}","type":"heart-rate","value":${60 + (seq % 40)},"ts":${Date.now()}}`
      const t0 = performance.now()
      outstanding++
      client.publish(`rpm/v1/devices/${id}/readings`, payload, { qos: 1 }, (err) => {
        outstanding--
        if (!err) {
          stats.acked++
          stats.latenciesUs.push((performance.now() - t0) * 1000)
        }
        if (!opts.ratePerS && performance.now() < end) one()
        else if (outstanding === 0 && performance.now() >= end) resolve(stats)
      })
    }
    if (opts.ratePerS) {
      const start = performance.now()
      const tick = setInterval(() => {
        const now = performance.now()
        if (now >= end) {
          clearInterval(tick)
          // The last acknowledgement may have come before the end: nothing else would resolve.
          if (outstanding === 0) resolve(stats)
          return
        }
        const due = Math.floor(((now - start) / 1000) * opts.ratePerS!)
        while (seq < due && outstanding < opts.inFlight) one()
      }, 1)
    } else for (let i = 0; i < opts.inFlight; i++) one()
  })
}

function pct(sorted: number[], p: number) {
  return sorted.length
    ? Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))])
    : 0
}

type Run = Awaited<ReturnType<typeof run>>

async function run(durable: boolean, ratePerS?: number) {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-bench-'))
  const devices = await provision(dataDir)
  const server = await startServer(dataDir, durable)
  const ca = fs.readFileSync(server.ca, 'utf8')
  const clients = await Promise.all(
    devices.map(([id, secret]) =>
      mqtt.connectAsync(`mqtts://localhost:${server.port}`, {
        ...{ clientId: id, username: id, password: secret, ca, protocolVersion: 4, reconnectPeriod: 0 },
      }),
    ),
  )
  // Warm-up (JIT, TLS buffers, SQLite pages), then the measured run.
  await Promise.all(clients.map((c, i) => drive(c, devices[i][0], 1, { inFlight: IN_FLIGHT })))
  const t0 = performance.now()
  const serverCpu0 = cpuSecondsOf(server.pid)
  const loadCpu0 = process.cpuUsage()
  const perClient = ratePerS ? ratePerS / PUBLISHERS : undefined
  const stats = await Promise.all(
    clients.map((c, i) => drive(c, devices[i][0], SECONDS, { inFlight: IN_FLIGHT, ratePerS: perClient })),
  )
  const elapsedS = (performance.now() - t0) / 1000
  const serverCpuS = cpuSecondsOf(server.pid) - serverCpu0
  const load = process.cpuUsage(loadCpu0)
  for (const c of clients) await c.endAsync()
  await server.stop()
  fs.rmSync(dataDir, { recursive: true, force: true })
  const lat = stats.flatMap((s) => s.latenciesUs).sort((a, b) => a - b)
  const acked = stats.reduce((n, s) => n + s.acked, 0)
  return {
    durable,
    targetRatePerS: ratePerS ?? null,
    readings: acked,
    readingsPerS: Math.round(acked / elapsedS),
    latencyUs: { p50: pct(lat, 50), p99: pct(lat, 99), max: Math.round(lat[lat.length - 1] ?? 0) },
    // CPU per reading: what the code costs, independent of what else the machine was doing.
    serverCpuUsPerReading: Math.round((serverCpuS * 1e7) / Math.max(1, acked)) / 10,
    loadGeneratorCpuUsPerReading: Math.round(((load.user + load.system) * 10) / Math.max(1, acked)) / 10,
  }
}

async function main() {
  const machine = {
    cpu: os.cpus()[0]?.model,
    cores: os.availableParallelism(),
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.type()} ${os.release()}`,
    loadAvgBefore: os.loadavg().map((n) => +n.toFixed(2)),
  }
  console.log(JSON.stringify(machine))
  if (process.argv.includes('--saturated-only')) {
    // The durable saturated phase alone (nothing written to results/), e.g. under --cpu-prof.
    console.log(JSON.stringify(await run(true)))
    return
  }
  if (process.argv.includes('--paced-only')) {
    // A quick look at the latency phase alone (nothing written to results/).
    console.log(JSON.stringify(await run(true, 5000)))
    return
  }
  const rounds: { durable: Run; notDurable: Run }[] = []
  for (let i = 0; i < ROUNDS; i++) {
    const durable = await run(true)
    console.log(JSON.stringify(durable))
    const notDurable = await run(false)
    console.log(JSON.stringify(notDurable))
    rounds.push({ durable, notDurable })
  }
  const median = (runs: Run[]) =>
    [...runs].sort((a, b) => a.readingsPerS - b.readingsPerS)[(runs.length - 1) >> 1]
  const on = median(rounds.map((r) => r.durable))
  const off = median(rounds.map((r) => r.notDurable))
  const at5k = await run(true, 5000)
  console.log(JSON.stringify(at5k))
  const result = {
    date: new Date().toISOString(),
    machine: { ...machine, loadAvgAfter: os.loadavg().map((n) => +n.toFixed(2)) },
    setup: {
      publishers: PUBLISHERS,
      inFlight: IN_FLIGHT,
      seconds: SECONDS,
      components: only,
      qos: 1,
      tls: true,
    },
    throughput: {
      durable: on,
      notDurable: off,
      durableCostPct: Math.round((1 - on.readingsPerS / off.readingsPerS) * 1000) / 10,
      ...(ROUNDS > 1
        ? {
            rounds: rounds.map((r) => ({
              durablePerS: r.durable.readingsPerS,
              notDurablePerS: r.notDurable.readingsPerS,
              durableCostPct:
                Math.round((1 - r.durable.readingsPerS / r.notDurable.readingsPerS) * 1000) / 10,
            })),
          }
        : {}),
    },
    latencyAt5kPerS: at5k,
    targets: { durableReadingsPerS: 50_000, durableCostPctMax: 20, p99UsAt5k: 10_000 },
  }
  fs.mkdirSync(path.join(import.meta.dirname, 'results'), { recursive: true })
  fs.writeFileSync(path.join(import.meta.dirname, 'results', out), `${JSON.stringify(result, null, 2)}\n`)
  console.log(JSON.stringify(result.throughput), JSON.stringify(result.latencyAt5kPerS))
}

if (process.argv.includes('--serve')) await serve()
else await main()
