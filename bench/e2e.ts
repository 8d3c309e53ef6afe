import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import WebSocket from 'ws'
import { pkiPaths } from '../shared/pki.ts'
import { addUser } from '../shared/provisioning.ts'
import { connectDevice } from '../simulators/connection.ts'
import { enrollFleet } from '../simulators/enroll.ts'
import { planFleet } from '../simulators/fleet.ts'
import { startSimulation } from '../simulators/run.ts'
import { createHistogram, createStats } from '../simulators/stats.ts'
import { openEmbeddedStorage } from '../storage/sqlite/index.ts'
import { runBaseline } from './baselines/relay.ts'
import { type RunningServer, startServer } from './baselines/vitalwire.ts'
import { cpuSecondsOf } from './proc.ts'

// End-to-end benchmark: Vitalwire durable readings/s (TLS, QoS 1, PUBACK after the local commit),
// publish->stored and publish->alert latency, connected devices per GB, and side by side in the same
// run the DIY baselines (a) Mosquitto relay and (b) Mosquitto + zod + SQLite subscriber.

export interface E2eOptions {
  durationS: number
  devices: number
  window: number
  latencyRate: number
  alerts: number
  idleDevices: number
}

const GIB = 2 ** 30
// The per-device rate limit (50/s by default) is policy for real fleets; a handful of bench devices
// carry the load of thousands, so it is raised here. Everything else is the shipped default.
const BENCH_ENV = { VITALWIRE_MQTT_RATE_PER_S: '1000000', VITALWIRE_MQTT_BURST: '1000000' }

const tmp = (p: string) => fs.mkdtempSync(path.join(os.tmpdir(), `vitalwire-bench-${p}-`))
const location = (dataDir: string) => ({
  dataDir,
  dbPath: path.join(dataDir, 'vitalwire.db'),
  pkiDir: path.join(dataDir, 'pki'),
})

async function throughput(
  server: RunningServer,
  secrets: Record<string, string>,
  plan: ReturnType<typeof planFleet>,
  o: E2eOptions,
  rate: number | 'max',
) {
  const sim = await startSimulation({
    url: server.mqttUrl,
    ca: fs.readFileSync(server.caCert, 'utf8'),
    secrets,
    plan,
    seed: 1,
    rate,
    window: o.window,
    durationMs: (rate === 'max' ? o.durationS : o.durationS / 2) * 1000,
    runTag: `bench-${rate}`,
  })
  return sim.done
}

async function alertLatency(
  server: RunningServer,
  secrets: Record<string, string>,
  plan: ReturnType<typeof planFleet>,
  n: number,
) {
  const storage = openEmbeddedStorage({ ...location(server.dataDir), outbox: false })
  const user = await addUser(storage.registry, {
    email: 'bench@vitalwire.local',
    role: 'admin',
    patients: [],
    oneTimePassword: false,
  }).finally(() => storage.close())
  const res = await fetch(`${server.httpUrl}/api/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(user),
  })
  const cookie = res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ')
  const ws = new WebSocket(`${server.httpUrl.replace('http', 'ws')}/ws`, { headers: { cookie } })
  await new Promise((r, j) => ws.once('open', r).once('error', j))
  const waiting = new Map<string, (t: number) => void>()
  ws.on('message', (data) => {
    const m = JSON.parse(String(data))
    if (m.type === 'alert') waiting.get(m.alert.patientId)?.(performance.now())
  })
  const latency = createHistogram()
  const stats = createStats()
  const wearables = plan.devices.filter((d) => d.kind === 'wearable').slice(0, n)
  for (const d of wearables) {
    const conn = await connectDevice({
      url: server.mqttUrl,
      ca: fs.readFileSync(server.caCert, 'utf8'),
      deviceId: d.id,
      secret: secrets[d.id],
      stats,
    })
    const arrived = new Promise<number>((resolve, reject) => {
      waiting.set(d.patientId, resolve)
      setTimeout(() => reject(new Error(`no alert for ${d.patientId} within 10 s`)), 10_000).unref()
    })
    const t0 = performance.now()
    // SpO2 80 %: spo2-low critical (< 85 %) for a patient whose readings were all normal so far.
    conn.publish(
      JSON.stringify({
        id: `alert-${d.id}`,
        type: 'spo2',
        value: 80,
        unit: '%',
        ts: new Date().toISOString(),
      }),
    )
    latency.record((await arrived) - t0)
    await conn.end()
  }
  ws.close()
  const p = (q: number) => Math.round((latency.percentile(q) ?? 0) * 100) / 100
  return {
    alerts: latency.count,
    p50: p(50),
    p90: p(90),
    p99: p(99),
    max: Math.round(latency.maxMs * 100) / 100,
  }
}

async function devicesPerGb(o: E2eOptions) {
  const dataDir = tmp('memory')
  const server = await startServer(dataDir, BENCH_ENV)
  try {
    const plan = planFleet({ devices: o.idleDevices, profile: 'healthy', prefix: 'idle' })
    const secrets = await enrollFleet(plan, location(dataDir))
    const ca = fs.readFileSync(server.caCert, 'utf8')
    const stats = createStats()
    const before = server.rssBytes()
    const conns = []
    for (let i = 0; i < plan.devices.length; i += 50)
      conns.push(
        ...(await Promise.all(
          plan.devices
            .slice(i, i + 50)
            .map((d) =>
              connectDevice({ url: server.mqttUrl, ca, deviceId: d.id, secret: secrets[d.id], stats }),
            ),
        )),
      )
    const after = server.rssBytes()
    await Promise.all(conns.map((c) => c.end()))
    const perDeviceBytes = (after - before) / conns.length
    return {
      connected: conns.length,
      rssBeforeMiB: Math.round(before / 2 ** 20),
      rssAfterMiB: Math.round(after / 2 ** 20),
      perDeviceKiB: Math.round(perDeviceBytes / 102.4) / 10,
      devicesPerGiB: Math.round(GIB / perDeviceBytes),
    }
  } finally {
    await server.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}

export async function runE2e(o: E2eOptions, log: (line: string) => void = () => {}) {
  const dataDir = tmp('e2e')
  const server = await startServer(dataDir, BENCH_ENV)
  try {
    const plan = planFleet({ devices: o.devices, profile: 'healthy', prefix: 'bench' })
    const secrets = await enrollFleet(plan, location(dataDir))
    log(`vitalwire: ${o.devices} devices, window ${o.window}, ${o.durationS}s at max rate`)
    const serverCpu0 = cpuSecondsOf(server.pid)
    const loadCpu0 = process.cpuUsage()
    const max = await throughput(server, secrets, plan, o, 'max')
    // What the code costs per reading, apart from how busy the machine was: the server process (all
    // its threads) and this process, which runs the load generator.
    const loadCpu = process.cpuUsage(loadCpu0)
    const per = (us: number) => Math.round((us / Math.max(1, max.readingsAcked)) * 10) / 10
    const cpuUsPerReading = {
      server: per((cpuSecondsOf(server.pid) - serverCpu0) * 1e6),
      loadGenerator: per(loadCpu.user + loadCpu.system),
    }
    log(
      `  durable end to end: ${max.ackedPerS} readings/s (CPU per reading: server ${cpuUsPerReading.server} us, load generator ${cpuUsPerReading.loadGenerator} us)`,
    )
    // Latency is measured below saturation (half the measured maximum, at most latencyRate): at or
    // above the maximum it would only measure the queue.
    const latencyRate = Math.max(10, Math.min(o.latencyRate, Math.round(max.ackedPerS / 2)))
    const steady = await throughput(server, secrets, plan, o, latencyRate)
    log(
      `  publish->stored at ${latencyRate}/s: p50 ${steady.pubackLatencyMs.p50} ms, p99 ${steady.pubackLatencyMs.p99} ms`,
    )
    const alerts = await alertLatency(server, secrets, plan, o.alerts)
    log(`  publish->alert: p50 ${alerts.p50} ms, p99 ${alerts.p99} ms`)
    const pki = pkiPaths(path.join(dataDir, 'pki'))
    await server.stop()
    const memory = await devicesPerGb(o)
    log(`  memory: ${memory.devicesPerGiB} connected devices per GiB`)
    const relay = await runBaseline({
      mode: 'noop',
      pki,
      plan,
      durationMs: o.durationS * 1000,
      window: o.window,
    })
    log(
      `(a) mosquitto relay: ${relay.endToEndPerS}/s delivered, ${relay.ackedNotDelivered} acked but never delivered`,
    )
    const diy = await runBaseline({
      mode: 'diy',
      pki,
      plan,
      durationMs: o.durationS * 1000,
      window: o.window,
    })
    log(
      `(b) mosquitto + zod + SQLite: ${diy.endToEndPerS}/s stored, ${diy.ackedNotDelivered} acked but never delivered`,
    )
    const vitalwirePerS = Math.round((max.readingsAcked / max.elapsedS) * 100) / 100
    return {
      options: o,
      vitalwire: {
        durableReadingsPerS: vitalwirePerS,
        saturation: max,
        cpuUsPerReading,
        publishToStored: { ratePerS: latencyRate, ...steady.pubackLatencyMs },
        publishToAlert: alerts,
        memory,
      },
      baselines: { relay, diy },
      ratios: {
        vitalwireOverDiy: Math.round((vitalwirePerS / Math.max(diy.endToEndPerS, 1)) * 100) / 100,
        vitalwireOverRelay: Math.round((vitalwirePerS / Math.max(relay.endToEndPerS, 1)) * 100) / 100,
        targets: { overDiy: 3, overRelay: 1 },
      },
    }
  } finally {
    await server.stop()
    fs.rmSync(dataDir, { recursive: true, force: true })
  }
}
