import { execFile } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { enrollFleet, stateFile } from '../../simulators/enroll.ts'
import { parseFaults } from '../../simulators/faults.ts'
import { type FleetPlan, planFleet } from '../../simulators/fleet.ts'
import { type SimulationOptions, startSimulation } from '../../simulators/run.ts'
import { runCli } from '../helpers/cli.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'

// The simulator against a real server: its own stats (acked, rejected via the errors topic) must agree
// with what the server stored.

const run = promisify(execFile)

describe('simulator against a real Vitalwire', () => {
  let h: Harness
  let cookie: string | undefined
  beforeEach(async () => {
    cookie = undefined
    h = await startHarness({ env: { VITALWIRE_LOG_LEVEL: 'warn' } })
  })
  afterEach(async () => h.close())

  const at = () => ({
    dataDir: h.dataDir,
    dbPath: path.join(h.dataDir, 'vitalwire.db'),
    pkiDir: path.join(h.dataDir, 'pki'),
  })

  async function storedReadings(plan: FleetPlan): Promise<number> {
    cookie ??= await h.login('admin@example.org', await h.addUser('admin@example.org', 'admin'))
    let n = 0
    for (const p of plan.patients) {
      const res = await fetch(`${h.httpUrl}/api/patients/${p.id}/readings?limit=5000`, {
        headers: { cookie },
      })
      expect(res.status).toBe(200)
      n += ((await res.json()) as { readings: unknown[] }).readings.length
    }
    return n
  }

  /** Enroll the plan's fleet and start it against this test's server; `o` overrides the defaults. */
  async function launch(plan: FleetPlan, o: Partial<SimulationOptions> = {}) {
    const secrets = await enrollFleet(plan, at())
    return startSimulation({ url: h.mqttUrl, ca: h.ca, secrets, plan, seed: 1, runTag: 't', ...o })
  }

  async function simulate(plan: FleetPlan, faults: string, durationMs: number) {
    return (await launch(plan, { rate: 40, durationMs, faults: parseFaults(faults) })).done
  }

  /** Rows of a query on the server's database, read-only (a second connection). */
  function query<T>(sql: string): T[] {
    const db = new DatabaseSync(path.join(h.dataDir, 'vitalwire.db'), { readOnly: true })
    try {
      return db.prepare(sql).all() as T[]
    } finally {
      db.close()
    }
  }

  it('ends with its summary when the server goes away during the run, counting what was never acknowledged', async () => {
    const plan = planFleet({ devices: 3, profile: 'healthy' })
    const sim = await launch(plan, { rate: 30, durationMs: 3000 })
    await new Promise((r) => setTimeout(r, 1000))
    await h.close()
    const s = await sim.done
    expect(s.acked).toBeGreaterThan(0)
    expect(s.disconnects).toBeGreaterThan(0)
    // Whatever was sent and not acknowledged is counted as unsent: none vanishes (in-flight publishes
    // cut off by the forced end were in no count at all).
    expect(s.readingsSent).toBeGreaterThan(s.readingsAcked)
    expect(s.readingsAcked + s.unsent).toBe(s.readingsSent)
  })

  it('server stores each duplicate once and rejects every malformed payload on the errors topic', async () => {
    const plan = planFleet({ devices: 4, profile: 'healthy' })
    const s = await simulate(plan, 'duplicates=0.3,malformed=0.06', 3000)
    expect(s.duplicatesSent).toBeGreaterThan(0)
    expect(s.malformedSent).toBeGreaterThan(0)
    // Every message is acknowledged (poison messages too, so devices do not retransmit them forever)...
    expect(s.acked).toBe(s.sent)
    // ...each malformed one comes back as one error, and nothing else does...
    expect(s.rejected).toBe(s.malformedSent)
    expect(Object.keys(s.rejectedByCode).every((c) => c.startsWith('VW_ERR_INGEST'))).toBe(true)
    // ...and the store holds each valid reading exactly once.
    expect(await storedReadings(plan)).toBe(s.readingsSent)
  })

  it('offline devices buffer readings and replay them in batches when back', async () => {
    const plan = planFleet({ devices: 3, profile: 'healthy' })
    const s = await simulate(plan, 'offline=0.7', 4000)
    expect(s.buffered).toBeGreaterThan(0)
    expect(s.replayed).toBeGreaterThan(0)
    // A device still offline when the run ends keeps its backlog: counted as unsent, never lost from view.
    expect(s.buffered).toBe(s.replayed + s.unsent)
    expect(s.acked).toBe(s.sent)
    expect(s.readingsAcked).toBe(s.readingsSent)
    expect(await storedReadings(plan)).toBe(s.readingsSent)
  })

  it('at full load (--rate max) too, devices go offline and come back, and carry on where they were', async () => {
    // Full load is far above the default 50 messages/s per device, whose excess is set aside.
    await h.close()
    h = await startHarness({
      env: {
        VITALWIRE_LOG_LEVEL: 'warn',
        VITALWIRE_MQTT_RATE_PER_S: '100000',
        VITALWIRE_MQTT_BURST: '100000',
      },
    })
    const plan = planFleet({ devices: 3, profile: 'healthy' })
    const sim = await launch(plan, {
      seed: 6,
      rate: 'max',
      window: 2,
      durationMs: 4000,
      faults: parseFaults('offline=0.5'),
    })
    const ackedAt = [] as number[]
    const probe = setInterval(() => ackedAt.push(sim.stats.counters.acked), 250)
    const s = await sim.done
    clearInterval(probe)
    // Offline periods happened (they used to be skipped in max mode)...
    expect(s.disconnects).toBeGreaterThan(0)
    expect(s.connects).toBeGreaterThan(plan.devices.length)
    // ...and the load went on after them: the last second still acknowledged messages.
    expect(ackedAt[ackedAt.length - 1] - ackedAt[ackedAt.length - 5]).toBeGreaterThan(0)
    // Counted in the database: more than the readings API's page per patient.
    expect(query('SELECT count(*) AS n FROM readings')).toEqual([{ n: s.readingsAcked }])
  })

  it('a reconnect storm loses no acknowledged reading', async () => {
    const plan = planFleet({ devices: 4, profile: 'healthy' })
    const s = await simulate(plan, 'reconnect-storm=1', 3500)
    // Every device connected at least twice: once at start, again after a storm.
    expect(s.connects).toBeGreaterThan(plan.devices.length)
    // A publish cut off by the storm fails on the device, which sends it again with the same reading ids.
    expect(s.acked + s.publishErrors).toBe(s.sent)
    expect(s.readingsAcked).toBe(s.readingsSent)
    expect(await storedReadings(plan)).toBe(s.readingsSent)
  })

  it('a device going offline during a reconnect storm sends its in-flight readings again when back', async () => {
    const plan = planFleet({ devices: 6, profile: 'healthy' })
    const s = await simulate(plan, 'offline=0.6,reconnect-storm=0.7', 5000)
    expect(s.buffered).toBeGreaterThan(0)
    // Each reading sent is acknowledged or still held by its device at the end (unsent also counts the
    // readings buffered offline and never sent); before, readings in flight when a device went offline
    // mid-reconnect were in neither count, and never stored.
    const neverSent = s.buffered - s.replayed
    expect(s.readingsAcked + s.unsent - neverSent).toBe(s.readingsSent)
    const stored = await storedReadings(plan)
    expect(stored).toBeGreaterThanOrEqual(s.readingsAcked)
    expect(stored).toBeLessThanOrEqual(s.readingsSent)
  })

  it('the same seed and start give the same values, under time compression, whatever the timing', async () => {
    const start = Date.parse('2026-12-01T07:00:00Z')
    // A plan each (a run's injections are kept in its plan's patients).
    const go = async (runTag: string) =>
      (
        await launch(planFleet({ devices: 8, profile: 'mixed' }), {
          seed: 7,
          runTag,
          startSimMs: start,
          timeScale: 3600,
          durationMs: 4000,
          scenarios: [{ kind: 'desaturation', atMs: 0 }],
        })
      ).done
    await go('a')
    await go('b')
    // Each run's readings by the reading id without its run tag: `<device>:<n>[.<i>]`.
    const rows = query<{ key: string; vals: string }>('SELECT key, vals FROM readings')
    const run = (tag: string) =>
      new Map(
        rows.filter((r) => r.key.includes(`:${tag}-`)).map((r) => [r.key.replace(`:${tag}-`, ':'), r.vals]),
      )
    const a = run('a')
    const b = run('b')
    const both = [...a.keys()].filter((k) => b.has(k))
    // Nearly all of them (the last tick of a run may differ), and every one with the same values: they
    // differed by one here and there when a device measured at the tick rather than when it was due.
    expect(both.length).toBeGreaterThan(0.9 * Math.max(a.size, b.size))
    expect(both.filter((k) => a.get(k) !== b.get(k)).map((k) => [k, a.get(k), b.get(k)])).toEqual([])
  })

  it('devices in their vendor formats go through the mappings: all stored, none rejected, the same readings', async () => {
    const plan = planFleet({ devices: 20, profile: 'mixed', vendorFormats: true })
    const formats = new Set(plan.devices.map((d) => d.format))
    expect(formats).toEqual(
      new Set(['generic', 'cellular-bp-cuff', 'scale-lb', 'pulse-ox-batch', 'glucometer-mmol']),
    )
    // Time compressed so that cuffs, scales and glucometers measure several times in a few seconds.
    const sim = await launch(plan, {
      seed: 5,
      timeScale: 7200,
      durationMs: 5000,
      faults: parseFaults('offline=1'),
    })
    const s = await sim.done
    expect(s.rejected).toBe(0)
    expect(s.acked).toBe(s.sent)
    expect(query('SELECT count(*) AS n FROM dead_letters')).toEqual([{ n: 0 }])
    const byDevice = query<{ device_id: string; n: number }>(
      'SELECT device_id, count(*) AS n FROM readings GROUP BY device_id',
    )
    // Every vendor device was heard through its mapping.
    for (const d of plan.devices.filter((x) => x.format !== 'generic'))
      expect(byDevice.find((r) => r.device_id === d.id)?.n ?? 0, d.id).toBeGreaterThan(0)
    // Each canonical reading the simulator sent is one stored reading (a cuff's pulse adds its own).
    const [{ n: pulses }] = query<{ n: number }>(
      "SELECT count(*) AS n FROM readings WHERE key LIKE '%:pulse'",
    )
    expect(byDevice.reduce((n, r) => n + r.n, 0) - pulses).toBe(s.readingsSent)
  })

  it('each clinical scenario raises its own alert on the server, under time compression', async () => {
    // One simulated hour a real second. A scenario that lands on a patient without the device or the
    // flag its rule needs raises nothing (weight gain on a patient not flagged heart-failure, a fever
    // with no thermometer): the run must end with every one of these alerts open.
    const plan = planFleet({ devices: 15, profile: 'mixed' })
    const want = ['spo2-low', 'bp-crisis', 'temp-fever', 'weight-gain', 'glucose-low']
    const sim = await launch(plan, {
      seed: 4,
      timeScale: 3600,
      durationMs: 60_000,
      scenarios: (
        ['desaturation', 'hypertensive-crisis', 'fever', 'weight-gain', 'hypoglycemia'] as const
      ).map((kind) => ({ kind, atMs: 0 })),
    })
    const open = () => new Set(query<{ rule: string }>('SELECT DISTINCT rule FROM alerts').map((r) => r.rule))
    try {
      const end = Date.now() + 55_000
      while (!want.every((r) => open().has(r)) && Date.now() < end)
        await new Promise((r) => setTimeout(r, 250))
      expect(want.filter((r) => !open().has(r))).toEqual([])
    } finally {
      sim.stop()
      await sim.done
    }
  }, 90_000)

  it('vitalwire simulate --enroll --json enrolls into the data dir, keeps secrets owner-only, prints one summary', async () => {
    const env = { ...process.env, ...h.env }
    const args = [
      'cli/vitalwire.ts',
      'simulate',
      '--devices',
      '3',
      '--enroll',
      '--duration',
      '2',
      '--rate',
      '10',
    ]
    const { stdout } = await run(
      process.execPath,
      [...args, '--json', '--url', h.mqttUrl, '--ca', h.running.caCert],
      {
        env,
      },
    )
    const summary = JSON.parse(stdout)
    expect(summary).toMatchObject({ devices: 3, rejected: 0 })
    expect(summary.acked).toBe(summary.sent)
    expect(summary.acked).toBeGreaterThan(10)
    expect(fs.statSync(stateFile(h.dataDir)).mode & 0o077).toBe(0)
    // A second run reuses the enrolled fleet without --enroll.
    const again = await run(
      process.execPath,
      [...args.filter((a) => a !== '--enroll'), '--json', '--url', h.mqttUrl, '--ca', h.running.caCert],
      { env },
    )
    expect(JSON.parse(again.stdout).acked).toBeGreaterThan(10)
  }, 120_000)

  it('says what is wrong, not a stack trace, when the server is not there or the CA is missing', async () => {
    const probe = net.createServer()
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
    const nobody = (probe.address() as net.AddressInfo).port
    await new Promise((r) => probe.close(r))
    const sim = (extra: string[], env: Record<string, string> = {}) =>
      runCli(['simulate', '--devices', '2', '--duration', '2', '--enroll', ...extra], { ...h.env, ...env })
    const cases: [string[], Record<string, string>, string][] = [
      [
        ['--url', `mqtts://localhost:${nobody}`, '--ca', h.running.caCert],
        {},
        `cannot connect the simulated devices to mqtts://localhost:${nobody}: connect ECONNREFUSED`,
      ],
      [
        ['--url', h.mqttUrl, '--ca', '/nonexistent/ca.crt'],
        {},
        'cannot read the CA certificate /nonexistent/ca.crt (ENOENT)',
      ],
      [
        [],
        { VITALWIRE_MQTT_PORT: '0' },
        'VITALWIRE_MQTT_PORT is 0 (the server picks a free port at start): pass --url',
      ],
    ]
    for (const [args, env, message] of cases) {
      const r = await sim(args, env)
      expect(r.code).toBe(2)
      expect(r.stderr).toContain(message)
      expect(r.stderr).not.toMatch(/\n\s+at /)
    }
  }, 60_000)
})
