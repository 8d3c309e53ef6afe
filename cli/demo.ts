import fs from 'node:fs'
import type { Command } from 'commander'
import { COMPONENTS } from '../shared/components.ts'
import type { ScenarioKind } from '../simulators/scenarios.ts'
import { runServer } from './start.ts'
import { configFromEnv } from './vitalwire.ts'

// `vitalwire demo`: the server plus a fleet of demo patients whose scenarios cross the default alert
// thresholds within a minute, and a one-time admin login to watch them on the dashboard.

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
    .option('--devices <n>', 'demo devices', (v) => Number.parseInt(v, 10), 15)
    .option('--time-scale <x>', 'simulated seconds per real second', Number, 60)
    .option('--seed <n>', 'seed for the demo patients', (v) => Number.parseInt(v, 10), 2026)
    .option('--every <s>', 'inject another scenario every this many real seconds', Number, 120)
    .option('--json', 'print the ready line (with the demo login) as one JSON object')
    .action(async (o: DemoOptions) => runDemo(o))
}

async function runDemo(o: DemoOptions) {
  // Loaded on use, so `vitalwire --help` and the provisioning commands start fast. (Never ./start.ts or
  // ./vitalwire.ts here: the entry module is still in its top-level await, and the import would deadlock.)
  const [{ addUser }, { enrollFleet }, { planFleet }, { createRng }, { startSimulation }, storage] =
    await Promise.all([
      import('../shared/provisioning.ts'),
      import('../simulators/enroll.ts'),
      import('../simulators/fleet.ts'),
      import('../simulators/prng.ts'),
      import('../simulators/run.ts'),
      import('../storage/sqlite/index.ts'),
    ])
  let login = { email: '', password: '' }
  await runServer(new Set(COMPONENTS), {
    json: o.json,
    async onReady(running) {
      const config = configFromEnv()
      const plan = planFleet({ devices: o.devices, profile: 'mixed', seed: o.seed, prefix: 'demo' })
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
      lines: [`  demo login (admin):     ${login.email}  password ${login.password}`],
    }),
  })
}
