import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { enrollFleet } from '../simulators/enroll.ts'
import { planFleet } from '../simulators/fleet.ts'
import { startSimulation } from '../simulators/run.ts'
import { startServer } from './baselines/vitalwire.ts'
import { cpuSecondsOf } from './proc.ts'

const prof = process.argv.includes('--prof')
const devices = Number(process.env.DEV ?? 50)
const window = Number(process.env.WIN ?? 8)
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vw-prof-'))
const env: Record<string, string> = { VITALWIRE_MQTT_RATE_PER_S: '1000000', VITALWIRE_MQTT_BURST: '1000000' }
if (prof) env.NODE_OPTIONS = '--cpu-prof --cpu-prof-dir=/tmp/prof'
if (process.env.SNODE) env.NODE_OPTIONS = process.env.SNODE
const server = await startServer(dataDir, env)
const plan = planFleet({ devices, profile: 'healthy', seed: 1, prefix: 'bench' })
const secrets = await enrollFleet(plan, {
  dataDir,
  dbPath: path.join(dataDir, 'vitalwire.db'),
  pkiDir: path.join(dataDir, 'pki'),
})
const ca = fs.readFileSync(server.caCert, 'utf8')
const c0 = cpuSecondsOf(server.pid)
const l0 = process.cpuUsage()
const sim = await startSimulation({
  url: server.mqttUrl,
  ca,
  secrets,
  plan,
  seed: 1,
  rate: 'max',
  window,
  durationMs: 10000,
  runTag: 'p',
})
const r = await sim.done
const cs = cpuSecondsOf(server.pid) - c0
const l = process.cpuUsage(l0)
console.log(
  JSON.stringify({
    devices,
    window,
    perS: r.ackedPerS,
    acked: r.readingsAcked,
    lat: r.pubackLatencyMs,
    serverUs: Math.round(((cs * 1e6) / r.readingsAcked) * 10) / 10,
    genUs: Math.round(((l.user + l.system) / r.readingsAcked) * 10) / 10,
  }),
)
await server.stop()
fs.rmSync(dataDir, { recursive: true, force: true })
