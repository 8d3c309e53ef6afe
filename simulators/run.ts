import { connectDevice, type DeviceConnection } from './connection.ts'
import { drawSkewMs, type FaultOptions, MALFORMED_KINDS, malformedPayload } from './faults.ts'
import { createDeviceModel, type DeviceModel, type FleetPlan } from './fleet.ts'
import { batches, type CanonicalReading, encode, toReadings } from './messages.ts'
import { createRng, type Rng } from './prng.ts'
import type { ScenarioKind, ScheduledScenario } from './scenarios.ts'
import { createStats, type Summary } from './stats.ts'
import { target } from './targets.ts'
import { encodeVendor } from './vendor.ts'

// The I/O shell around the pure generators: one MQTT connection per device, a clock that maps real
// time to simulated time (time compression), cadence mode (devices measure when they would) or load
// mode (a fixed fleet-wide rate, or as fast as PUBACKs come back), and the faults.

export interface SimulationOptions {
  url: string
  ca: string
  secrets: Readonly<Record<string, string>>
  plan: FleetPlan
  seed: number
  timeScale?: number
  startSimMs?: number
  /** Load mode: messages per second across the fleet, or 'max' (keep `window` in flight per device). */
  rate?: number | 'max'
  window?: number
  durationMs?: number
  scenarios?: { kind: ScenarioKind; atMs: number }[]
  faults?: FaultOptions
  /** Goes into reading ids so that a rerun with the same seed is not deduplicated as a replay. */
  runTag?: string
  connectConcurrency?: number
}

interface DeviceState {
  model: DeviceModel
  rng: Rng
  skewMs: number
  seq: number
  conn?: DeviceConnection
  offline: boolean
  nextOfflineAtMs: number
  buffer: CanonicalReading[]
  /** Messages whose publish failed: sent again, unchanged (same reading ids), once connected. */
  retry: { payload: string; readings: number; onAck?: () => void }[]
  /** Simulated time of the last measurement (sent, or skipped while silent). */
  lastSentSimMs: number
  /** A vendor device's own message and record counter (vendor.ts). */
  vendorSeq: number
}

const MIN_REAL_INTERVAL_MS = 1000
/** A device this late (real ms, a few ticks) still measures at the instant it was due. */
const CATCH_UP_REAL_MS = 250
const REPLAY_BATCH = 50

export async function startSimulation(o: SimulationOptions) {
  const stats = createStats()
  const timeScale = o.timeScale ?? 1
  const startSimMs = o.startSimMs ?? Date.now()
  const runTag = o.runTag ?? Date.now().toString(36)
  const faults = o.faults ?? {}
  const patients = new Map(o.plan.patients.map((p) => [p.id, p]))
  const states: DeviceState[] = o.plan.devices.map((d) => {
    const rng = createRng(o.seed).fork(`faults:${d.id}`)
    return {
      model: createDeviceModel(
        d,
        patients.get(d.patientId) as (typeof o.plan.patients)[number],
        o.seed,
        startSimMs,
      ),
      rng,
      skewMs: faults.skew ? drawSkewMs(rng) : 0,
      seq: 0,
      offline: false,
      nextOfflineAtMs: faults.offlineS
        ? rng.uniform(1, 4) * faults.offlineS * 1000
        : Number.POSITIVE_INFINITY,
      buffer: [],
      retry: [],
      lastSentSimMs: Number.NEGATIVE_INFINITY,
      vendorSeq: 0,
    }
  })
  const runStartMs = Date.now()
  /** The messages that carry `readings` in the device's format (canonical, or its vendor's). */
  function messages(d: DeviceState, readings: CanonicalReading[]): { payload: string; readings: number }[] {
    const format = d.model.device.format
    if (format === 'generic') return [{ payload: encode(readings), readings: readings.length }]
    return encodeVendor(format, readings, {
      deviceId: d.model.device.id,
      runStartMs,
      next: () => ++d.vendorSeq,
    })
  }
  let t0 = performance.now()
  const elapsed = () => performance.now() - t0
  const simNow = () => startSimMs + elapsed() * timeScale
  let stopped = false
  const injected: Record<string, number> = {}

  function inject(kind: ScenarioKind, atSimMs = simNow(), patientId?: string): ScheduledScenario {
    const nth = injected[kind] ?? 0
    injected[kind] = nth + 1
    const s = patientId ? { kind, patientId, startSimMs: atSimMs } : target(o.plan, kind, nth, atSimMs)
    patients.get(s.patientId)?.scenarios.push(s)
    for (const d of states) if (d.model.patient.id === s.patientId) d.model.reschedule(simNow())
    return s
  }
  for (const s of o.scenarios ?? []) inject(s.kind, startSimMs + s.atMs)

  const connect = async (d: DeviceState) => {
    const secret = o.secrets[d.model.device.id]
    if (!secret)
      throw new Error(`no secret for device ${d.model.device.id}: enroll the fleet first (--enroll)`)
    d.conn = await connectDevice({
      url: o.url,
      ca: o.ca,
      deviceId: d.model.device.id,
      secret,
      stats,
      reconnectPeriodMs: 1000,
    })
  }
  const limit = o.connectConcurrency ?? 50
  for (let i = 0; i < states.length; i += limit) await Promise.all(states.slice(i, i + limit).map(connect))
  // The run starts once the fleet is connected; connecting is not part of the rates.
  t0 = performance.now()
  stats.begin()

  function publish(d: DeviceState, payload: string, readings: number, onAck?: () => void, retry = false) {
    if (!d.conn) return
    if (!retry) stats.counters.readingsSent += readings
    d.conn.publish(payload, (err) => {
      if (err) {
        // The callback goes along: in max mode it is what keeps this in-flight slot going.
        d.retry.push({ payload, readings, onAck })
        return
      }
      stats.counters.readingsAcked += readings
      // A device that misses a PUBACK (or has buggy firmware) sends the same reading again.
      if (faults.duplicates && d.rng.chance(faults.duplicates)) {
        stats.counters.duplicatesSent++
        d.conn?.publish(payload)
      }
      onAck?.()
    })
    if (faults.malformed && d.rng.chance(faults.malformed)) {
      stats.counters.malformedSent++
      const id = `${runTag}-bad-${++d.seq}`
      d.conn.publish(
        malformedPayload(d.rng.pick(MALFORMED_KINDS), id, new Date(Date.now() + d.skewMs).toISOString()),
      )
    }
  }

  function send(d: DeviceState, readings: CanonicalReading[], onAck?: () => void) {
    if (d.offline || !d.conn) {
      d.buffer.push(...readings)
      stats.counters.buffered += readings.length
      return
    }
    for (const m of messages(d, readings)) publish(d, m.payload, m.readings, onAck)
  }

  function sample(d: DeviceState, all: boolean, atSimMs = simNow()): CanonicalReading[] {
    const s = d.model.take(atSimMs)
    // A vendor device sends what it measured together (an oximeter's SpO2 with its pulse rate).
    const whole = all || d.model.device.format !== 'generic'
    const measurements = whole ? s.measurements : [s.measurements[d.seq % s.measurements.length]]
    return toReadings(measurements, {
      idBase: `${runTag}-${++d.seq}`,
      measuredAtMs: Date.now() + d.skewMs,
      batteryPct: s.batteryPct,
    })
  }

  async function goOffline(d: DeviceState) {
    d.offline = true
    const conn = d.conn
    d.conn = undefined
    await conn?.end()
    const downMs = d.rng.uniform(0.5, 1.5) * (faults.offlineS ?? 5) * 1000
    setTimeout(() => void comeBack(d), downMs).unref()
  }
  async function comeBack(d: DeviceState) {
    if (stopped) return
    await connect(d).catch(() => {})
    d.offline = false
    d.nextOfflineAtMs = elapsed() + d.rng.uniform(2, 6) * (faults.offlineS ?? 5) * 1000
    const backlog = d.buffer.splice(0)
    stats.counters.replayed += backlog.length
    for (const b of batches(backlog, REPLAY_BATCH))
      for (const m of messages(d, b)) publish(d, m.payload, m.readings)
    // In max mode the slots that ended while offline (their readings were buffered) start again.
    if (o.rate === 'max') for (let i = 0; i < window; i++) pump(d)
  }

  /** Offline periods and retries, for every mode. */
  function faultTick() {
    for (const d of states) {
      if (!d.offline && elapsed() >= d.nextOfflineAtMs) void goOffline(d)
      if (d.conn?.connected && d.retry.length) {
        for (const m of d.retry.splice(0)) {
          stats.counters.retried++
          publish(d, m.payload, m.readings, m.onAck, true)
        }
      }
    }
  }

  // Routine measurements at most once a real second per device, counted in simulated time so that the
  // instants (and so the values) depend on the seed only; a patient's symptomatic checks during an episode
  // always (at high compression an episode is shorter than that second).
  const minGapSimMs = MIN_REAL_INTERVAL_MS * timeScale
  function cadenceTick() {
    faultTick()
    const now = simNow()
    for (const d of states) {
      const m = d.model
      const due = m.nextIsCheck ? m.nextDueMs : Math.max(m.nextDueMs, d.lastSentSimMs + minGapSimMs)
      if (due > now) continue
      // Measured at the instant it was due, whatever the timing of this tick; only a run that cannot
      // keep up (a busy machine) measures now, skipping what it missed.
      const at = now - due <= CATCH_UP_REAL_MS * timeScale ? due : now
      d.lastSentSimMs = at
      if (m.silent(at)) {
        // One count per measurement it would have sent.
        m.take(at)
        stats.counters.silentSkipped++
        continue
      }
      send(d, sample(d, true, at))
    }
  }

  const window = o.window ?? 8
  let cursor = 0
  let tokens = 0
  let lastTick = elapsed()
  function loadTick() {
    faultTick()
    const t = elapsed()
    tokens = Math.min(tokens + ((t - lastTick) / 1000) * (o.rate as number), states.length * window)
    lastTick = t
    for (let tries = 0; tokens >= 1 && tries < states.length; ) {
      const d = states[cursor++ % states.length]
      if (!d.offline && (!d.conn || d.conn.inflight >= window)) {
        tries++
        continue
      }
      tries = 0
      tokens--
      send(d, sample(d, false))
    }
  }
  function pump(d: DeviceState) {
    if (!stopped && d.conn && d.conn.inflight < window) send(d, sample(d, false), () => pump(d))
  }

  const timers: NodeJS.Timeout[] = []
  if (o.rate === 'max') {
    for (const d of states) for (let i = 0; i < window; i++) pump(d)
    // Offline periods and retries run in max mode too.
    timers.push(setInterval(faultTick, 100))
  } else
    timers.push(setInterval(o.rate === undefined ? cadenceTick : loadTick, o.rate === undefined ? 100 : 10))
  if (faults.reconnectStormS)
    timers.push(
      setInterval(() => {
        for (const d of states) d.conn?.drop()
      }, faults.reconnectStormS * 1000),
    )

  let finish: (s: Summary) => void = () => {}
  const done = new Promise<Summary>((resolve) => (finish = resolve))
  async function stop(): Promise<Summary> {
    if (stopped) return done
    stopped = true
    for (const t of timers) clearInterval(t)
    for (const d of states) d.nextOfflineAtMs = Number.POSITIVE_INFINITY
    // Let in-flight publishes get their PUBACK (and rejections their error message) before closing.
    const deadline = elapsed() + 10_000
    while (states.some((d) => (d.conn?.inflight ?? 0) > 0 || d.retry.length > 0) && elapsed() < deadline) {
      faultTick()
      await new Promise((r) => setTimeout(r, 20))
    }
    await new Promise((r) => setTimeout(r, 300))
    await Promise.all(states.map((d) => d.conn?.end()))
    for (const d of states)
      stats.counters.unsent += d.buffer.length + d.retry.reduce((n, m) => n + m.readings, 0)
    const summary = { ...stats.summary(), devices: states.length, patients: o.plan.patients.length }
    finish(summary)
    return summary
  }
  if (o.durationMs !== undefined) setTimeout(() => void stop(), o.durationMs)

  return {
    stats,
    inject,
    simNow,
    connected: () => states.filter((d) => d.conn?.connected).length,
    done,
    stop,
  }
}
export type Simulation = Awaited<ReturnType<typeof startSimulation>>
