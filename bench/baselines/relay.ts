import { fork } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { PkiPaths } from '../../shared/pki.ts'
import type { FleetPlan } from '../../simulators/fleet.ts'
import { startSimulation } from '../../simulators/run.ts'
import { startMosquitto } from './mosquitto.ts'

// One DIY baseline run: Mosquitto over TLS, the subscriber process (noop or diy), and the same load
// generator Vitalwire gets. Counts what Mosquitto acknowledged to publishers but never delivered.

interface Counts {
  received: number
  stored: number
  invalid: number
  /** When the subscriber handled its last message. */
  lastAtMs: number
}

export interface BaselineResult {
  name: string
  mosquitto: string
  publishedAcked: number
  delivered: number
  stored: number
  /** Acknowledged to a publisher (PUBACK) and never delivered to the subscriber. */
  ackedNotDelivered: number
  publishSeconds: number
  ackedPerS: number
  /** Delivered (noop) or stored (diy) per second, from the first publish to the last delivery. */
  endToEndPerS: number
  pubackLatencyMs: { p50: number; p90: number; p99: number; max: number }
}

export async function runBaseline(o: {
  mode: 'noop' | 'diy'
  pki: PkiPaths
  plan: FleetPlan
  durationMs: number
  window: number
}): Promise<BaselineResult> {
  const mosquitto = await startMosquitto(o.pki)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-bench-diy-'))
  const sub = fork(
    path.join(import.meta.dirname, 'subscriber.ts'),
    [mosquitto.url, o.pki.caCert, o.mode, path.join(dir, 'diy.db')],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  )
  // The subscriber answers a report request only between messages, so an answer is never stale.
  const ask = () =>
    new Promise<Counts>((resolve, reject) => {
      const died = (code: number | null) => reject(new Error(`subscriber exited with ${code}`))
      sub.once('exit', died)
      sub.once('message', (m: Counts) => {
        sub.off('exit', died)
        resolve(m)
      })
      sub.send('report')
    })
  await ask()
  try {
    const sim = await startSimulation({
      url: mosquitto.url,
      ca: fs.readFileSync(o.pki.caCert, 'utf8'),
      // Mosquitto runs anonymous here; the load generator still sends a username and password.
      secrets: Object.fromEntries(o.plan.devices.map((d) => [d.id, 'unused'])),
      plan: o.plan,
      seed: 1,
      rate: 'max',
      window: o.window,
      durationMs: o.durationMs,
      runTag: `${o.mode}`,
    })
    // startSimulation returns once the fleet is connected and publishing: the clock starts here.
    const startedMs = Date.now()
    const s = await sim.done
    // The subscriber may still be working through its queue: wait until its count stops moving.
    let last = await ask()
    for (;;) {
      await new Promise((r) => setTimeout(r, 500))
      const now = await ask()
      if (now.received === last.received) break
      last = now
    }
    const endMs = Math.max(last.lastAtMs, startedMs + 1)
    const firstMs = startedMs
    const delivered = last.received
    return {
      name: o.mode === 'noop' ? 'mosquitto-relay' : 'mosquitto-diy-sqlite',
      mosquitto: mosquitto.version,
      publishedAcked: s.acked,
      delivered,
      stored: last.stored,
      ackedNotDelivered: Math.max(0, s.acked - delivered),
      publishSeconds: s.elapsedS,
      ackedPerS: s.ackedPerS,
      endToEndPerS: Math.round(((o.mode === 'noop' ? delivered : last.stored) / (endMs - firstMs)) * 1000),
      pubackLatencyMs: s.pubackLatencyMs,
    }
  } finally {
    sub.send('stop')
    await new Promise((r) => sub.once('exit', r))
    await mosquitto.stop()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}
