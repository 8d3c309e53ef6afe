// Alerts benchmarks. Run: `node bench/alerts.ts` (Node 24). Writes bench/results/alerts.json.
// (a) Rule engine: threshold reading-rule evaluations per second on one core, the live hot path
//     (compiled per-type index -> evaluateThreshold -> recovered when in range). Target >= 500,000/s.
// (b) Publish-to-alert-on-WebSocket latency at 1,000 readings/s through the real server: TLS MQTT
//     QoS 1 -> ingest commit -> alerts -> WebSocket push. Target p99 <= 25 ms.
import { execSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads'
import { compileRules } from '../alerts/compile.ts'
import { DEFAULT_RULES } from '../alerts/default-rules.ts'
import { evaluateThreshold, levelsFor, recovered } from '../alerts/evaluate.ts'
import { obs } from '../alerts/test-observation.ts'
import type { VitalType } from '../shared/catalog.ts'
import { startHarness } from '../test/helpers/harness.ts'
import { openWs } from '../test/helpers/ws-client.ts'

const arg = (name: string, def: number) =>
  Number(process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? def)

function engineBench(seconds: number) {
  const compiled = compileRules(DEFAULT_RULES)
  const rules = compiled.forPatient('p')
  const gen: [VitalType, () => Record<string, number>][] = [
    ['heart-rate', () => ({ value: 50 + Math.round(Math.random() * 100) })],
    ['spo2', () => ({ value: 82 + Math.round(Math.random() * 18) })],
    ['respiratory-rate', () => ({ value: 6 + Math.round(Math.random() * 22) })],
    [
      'blood-pressure',
      () => ({
        systolic: 85 + Math.round(Math.random() * 110),
        diastolic: 60 + Math.round(Math.random() * 65),
      }),
    ],
    ['body-temperature', () => ({ value: Math.round((34.5 + Math.random() * 5) * 10) / 10 })],
    ['blood-glucose', () => ({ value: 40 + Math.round(Math.random() * 400) })],
  ]
  const pool = Array.from({ length: 4096 }, (_, i) => {
    const [type, values] = gen[i % gen.length]
    return obs('p', type, values(), Date.now())
  })
  const flags = {}
  let pairs = 0
  let breaches = 0
  const run = (ms: number) => {
    const end = performance.now() + ms
    while (performance.now() < end) {
      for (let i = 0; i < pool.length; i++) {
        const o = pool[i]
        const list = rules.byType.get(o.type)
        if (!list) continue
        for (let j = 0; j < list.length; j++) {
          const r = list[j]
          if (r.kind !== 'threshold') continue
          const levels = levelsFor(r, flags)
          if (evaluateThreshold(r, o, levels)) breaches++
          else recovered(r, o, levels)
          pairs++
        }
      }
    }
  }
  run(500) // warm up the JIT
  pairs = 0
  breaches = 0
  const heapBefore = process.memoryUsage().heapUsed
  const t0 = performance.now()
  run(seconds * 1000)
  const elapsedS = (performance.now() - t0) / 1000
  return {
    evaluationsPerS: Math.round(pairs / elapsedS),
    evaluations: pairs,
    breachFraction: Number((breaches / pairs).toFixed(3)),
    heapGrowthBytes: process.memoryUsage().heapUsed - heapBefore,
    seconds: Number(elapsedS.toFixed(2)),
  }
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]

const nowAbs = () => performance.timeOrigin + performance.now()

/** Load generator, in a worker thread so it does not share the server's event loop. */
async function publisher(d: {
  mqttUrl: string
  ca: string
  devices: { id: string; patientId: string; secret: string }[]
  ratePerS: number
  total: number
}) {
  const mqtt = (await import('mqtt')).default
  const clients = await Promise.all(
    d.devices.map((x) =>
      mqtt.connectAsync(d.mqttUrl, {
        clientId: x.id,
        username: x.id,
        password: x.secret,
        ca: d.ca,
        protocolVersion: 4,
        reconnectPeriod: 0,
      }),
    ),
  )
  const t0 = performance.now()
  const acks: Promise<unknown>[] = []
  let sent: [string, number][] = []
  for (let seq = 0; seq < d.total; ) {
    const due = Math.floor(((performance.now() - t0) / 1000) * d.ratePerS)
    for (; seq < Math.min(due, d.total); seq++) {
      const i = seq % clients.length
      const ts = new Date().toISOString()
      // Every 5th reading breaches hr-high (> 130 /min) and must reach the WebSocket; the rest are normal.
      const breach = seq % 5 === 0
      if (breach) sent.push([`${d.devices[i].patientId}|${ts}`, nowAbs()])
      const body = JSON.stringify({
        id: `r-${seq}`,
        type: 'heart-rate',
        ts,
        value: breach ? 140 : 72,
        unit: 'bpm',
      })
      acks.push(clients[i].publishAsync(`rpm/v1/devices/${d.devices[i].id}/readings`, body, { qos: 1 }))
    }
    if (sent.length) {
      parentPort!.postMessage({ sent })
      sent = []
    }
    await new Promise((r) => setTimeout(r, 1))
  }
  await Promise.all(acks)
  parentPort!.postMessage({ done: (performance.now() - t0) / 1000 })
  await Promise.all(clients.map((c) => c.endAsync()))
}

async function latencyBench(ratePerS: number, seconds: number, devices: number) {
  const h = await startHarness({ env: { VITALWIRE_LOG_LEVEL: 'warn' } })
  try {
    const list: { id: string; patientId: string; secret: string }[] = []
    for (let i = 0; i < devices; i++) {
      await h.enrollPatient(`bp-${i}`)
      list.push({
        id: `bench-${i}`,
        patientId: `bp-${i}`,
        secret: (await h.enrollDevice(`bench-${i}`, `bp-${i}`)).secret!,
      })
    }
    const password = await h.addUser('bench@example.org', 'admin')
    const ws = await openWs(h.httpUrl, await h.login('bench@example.org', password))
    const sentAt = new Map<string, number>()
    const arrived = new Map<string, number>()
    ws.next((m) => {
      if (m.alert?.rule === 'hr-high') arrived.set(`${m.alert.patientId}|${m.alert.lastSeenAt}`, nowAbs())
      return false
    }, 3_600_000).catch(() => {})
    const total = ratePerS * seconds
    const worker = new Worker(new URL(import.meta.url), {
      workerData: { mqttUrl: h.mqttUrl, ca: h.ca, devices: list, ratePerS, total },
    })
    const sentS = await new Promise<number>((resolve, reject) => {
      worker.on('message', (m) => {
        if (m.sent) for (const [k, t] of m.sent) sentAt.set(k, t)
        if (m.done) resolve(m.done)
      })
      worker.on('error', reject)
    })
    const deadline = Date.now() + 10_000
    while (arrived.size < sentAt.size && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50))
    await worker.terminate()
    ws.close()
    // The first 2 s warm up (TLS sessions, JIT); measure the rest.
    const start = Math.min(...sentAt.values()) + 2000
    const latencies = [...sentAt]
      .filter(([k, t]) => t >= start && arrived.has(k))
      .map(([k, t]) => arrived.get(k)! - t)
      .sort((a, b) => a - b)
    return {
      ratePerS,
      achievedRatePerS: Math.round(total / sentS),
      readings: total,
      alertsExpected: sentAt.size,
      alertsMeasured: latencies.length,
      alertsMissing: [...sentAt.keys()].filter((k) => !arrived.has(k)).length,
      p50Ms: Number(pct(latencies, 50).toFixed(2)),
      p90Ms: Number(pct(latencies, 90).toFixed(2)),
      p99Ms: Number(pct(latencies, 99).toFixed(2)),
      maxMs: Number(latencies.at(-1)!.toFixed(2)),
      devices,
    }
  } finally {
    await h.close()
  }
}

if (!isMainThread) {
  await publisher(workerData)
  process.exit(0)
}

const machine = {
  cpu: os.cpus()[0]?.model,
  cores: os.cpus().length,
  memGiB: Number((os.totalmem() / 2 ** 30).toFixed(1)),
  node: process.version,
  platform: `${os.platform()} ${os.release()}`,
  uptimeBefore: execSync('uptime').toString().trim(),
}
console.log('machine', machine)
const engine = engineBench(arg('engine-seconds', 5))
console.log('engine (threshold reading-rule evaluations, one core)', engine)
const latency = await latencyBench(arg('rate', 1000), arg('seconds', 20), arg('devices', 50))
console.log('publish -> alert on WebSocket', latency)
const result = {
  at: new Date().toISOString(),
  machine: { ...machine, uptimeAfter: execSync('uptime').toString().trim() },
  engine: { ...engine, target: '>= 500000/s', met: engine.evaluationsPerS >= 500_000 },
  latency: { ...latency, target: 'p99 <= 25 ms', met: latency.p99Ms <= 25 },
}
const out = path.join(import.meta.dirname, 'results', 'alerts.json')
fs.mkdirSync(path.dirname(out), { recursive: true })
fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
console.log(`wrote ${out}`)
process.exit(0)
