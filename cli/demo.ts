import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Command, InvalidArgumentError } from 'commander'
import { COMPONENTS } from '../shared/components.ts'
import { VitalwireError } from '../shared/errors.ts'
import type { ScenarioKind } from '../simulators/scenarios.ts'
import { candidates } from '../simulators/targets.ts'
import { count, positive, requireShowable, seed } from './simulate.ts'
import { runServer } from './start.ts'
import { configFromEnv } from './vitalwire.ts'

// `vitalwire demo`: the server plus a fleet of demo patients whose scenarios cross the default alert
// thresholds within a minute, and a one-time admin login to watch them on the dashboard.

const DEMO_PREFIX = 'demo'
const FIRST_SCENARIOS: { kind: ScenarioKind; atMs: number }[] = [
  { kind: 'desaturation', atMs: 0 },
  { kind: 'hypertensive-crisis', atMs: 0 },
  { kind: 'hypoglycemia', atMs: 0 },
  { kind: 'fever', atMs: 0 },
  { kind: 'weight-gain', atMs: 0 },
  { kind: 'battery-drain', atMs: 0 },
]
const CLINICAL: ScenarioKind[] = [
  'desaturation',
  'hypertensive-crisis',
  'fever',
  'hypoglycemia',
  'weight-gain',
]

interface DemoOptions {
  devices: number
  timeScale: number
  seed: number
  every: number
  json?: boolean
}

export function demoCommand(program: Command) {
  program
    .command('demo')
    .description('start Vitalwire with a simulated fleet whose anomalies raise alerts within a minute')
    .option('--devices <n>', 'demo devices', count('--devices'), 15)
    .option('--time-scale <x>', 'simulated seconds per real second', positive('--time-scale'), 60)
    .option('--seed <n>', 'seed for the demo patients', seed, 2026)
    .option('--every <s>', 'inject another scenario every this many real seconds', everyArg, 120)
    .option('--json', 'print the ready line (with the demo login) as one JSON object')
    .action(async (o: DemoOptions) => runDemo(o))
}

/**
 * The data dir the demo runs in. Without VITALWIRE_DATA_DIR, a temporary one, removed when the demo
 * stops: the demo enrolls simulated patients and an admin login, which must never land in the data
 * `vitalwire start` uses. An explicit data dir that holds other patients is refused for the same reason.
 */
async function demoDataDir(): Promise<{ temporary: boolean }> {
  const explicit = process.env.VITALWIRE_DATA_DIR
  if (!explicit) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-demo-'))
    process.env.VITALWIRE_DATA_DIR = dir
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }))
    return { temporary: true }
  }
  const config = configFromEnv()
  if (fs.existsSync(config.dbPath)) {
    const { openEmbeddedStorage } = await import('../storage/sqlite/index.ts')
    const s = openEmbeddedStorage({ ...config, outbox: false })
    try {
      const others = (await s.registry.listPatients()).filter((p) => !p.id.startsWith(`${DEMO_PREFIX}-`))
      if (others.length > 0)
        throw new VitalwireError(
          'VW_ERR_CLI_ARGUMENT',
          `${config.dataDir} holds ${others.length} patients of its own; the demo adds simulated patients, ` +
            'devices and an admin login, so it runs only in a data dir of its own. Unset ' +
            'VITALWIRE_DATA_DIR to run it in a temporary one.',
        )
    } finally {
      s.close()
    }
  }
  return { temporary: false }
}

/** At least 10 s between injections: faster, episodes pile onto each other (and into implausible values). */
function everyArg(v: string): number {
  const n = Number(v)
  if (!(Number.isFinite(n) && n >= 10))
    throw new InvalidArgumentError('--every must be at least 10 (seconds)')
  return n
}

async function runDemo(o: DemoOptions) {
  // Before anything starts: a fleet too small for the demo's scenarios is an argument error.
  const { planFleet } = await import('../simulators/fleet.ts')
  const demoFleet = (devices: number) => planFleet({ devices, profile: 'mixed', prefix: DEMO_PREFIX })
  const plan = demoFleet(o.devices)
  const shown = [...new Set([...FIRST_SCENARIOS.map((s) => s.kind), ...CLINICAL])]
  const showsAll = (n: number) => shown.every((kind) => candidates(demoFleet(n), kind).length > 0)
  if (!showsAll(o.devices)) {
    // The smallest fleet that shows every scenario, so the advice is never a number that fails too.
    let least = o.devices + 1
    while (least < 1000 && !showsAll(least)) least++
    requireShowable(plan, shown, {
      before: `--devices ${o.devices} is too few for the demo: `,
      advice: `use ${least} or more (default 15)`,
    })
  }
  const { temporary } = await demoDataDir()
  // Loaded on use, so `vitalwire --help` and the provisioning commands start fast. (Never ./start.ts or
  // ./vitalwire.ts here: the entry module is still in its top-level await, and the import would deadlock.)
  const [{ addUser }, { enrollFleet }, { createRng }, { startSimulation }, storage] = await Promise.all([
    import('../shared/provisioning.ts'),
    import('../simulators/enroll.ts'),
    import('../simulators/prng.ts'),
    import('../simulators/run.ts'),
    import('../storage/sqlite/index.ts'),
  ])
  let login = { email: '', password: '' }
  await runServer(new Set(COMPONENTS), {
    json: o.json,
    async onReady(running) {
      const config = configFromEnv()
      const secrets = await enrollFleet(plan, config)
      const db = storage.openEmbeddedStorage({ ...config, outbox: false })
      try {
        const email = `demo-${Date.now().toString(36)}@vitalwire.local`
        // A throwaway login for a local demo: usable at once, without the one-time-password change the
        // API demands of real users (docs/api.md).
        login = await addUser(db.registry, { email, role: 'admin', patients: [], oneTimePassword: false })
      } finally {
        db.close()
      }
      const sim = await startSimulation({
        url: `mqtts://localhost:${running.mqttPort}`,
        ca: fs.readFileSync(running.caCert, 'utf8'),
        secrets,
        plan,
        seed: o.seed,
        timeScale: o.timeScale,
        scenarios: FIRST_SCENARIOS,
      })
      // On a schedule, another patient has another episode, so the worklist keeps moving.
      const rng = createRng(o.seed).fork('demo-schedule')
      const timer = setInterval(() => sim.inject(rng.pick(CLINICAL)), o.every * 1000)
      return async () => {
        clearInterval(timer)
        await sim.stop()
      }
    },
    describe: () => ({
      json: { demo: { email: login.email, password: login.password } },
      lines: [
        `  demo login (admin):     ${login.email}  password ${login.password}`,
        ...(temporary ? ['  (a temporary data dir: it is removed when the demo stops)'] : []),
      ],
    }),
  })
}
