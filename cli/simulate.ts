import fs from 'node:fs'
import readline from 'node:readline'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { VitalwireError } from '../shared/errors.ts'
import { parseFaults } from '../simulators/faults.ts'
import type { FleetPlan } from '../simulators/fleet.ts'
import { PROFILES, type ProfileChoice } from '../simulators/profiles.ts'
import { isScenarioKind, SCENARIOS, type ScenarioKind } from '../simulators/scenarios.ts'
import { statusLine } from '../simulators/stats.ts'
import { candidates, parseScenarioList, whatShows } from '../simulators/targets.ts'
import { configFromEnv } from './vitalwire.ts'

// `vitalwire simulate`: a fleet of simulated devices, each a real MQTT-over-TLS client with its own
// credentials, publishing physiologically coherent readings (see docs/simulators.md).

export const positive = (what: string) => (v: string) => {
  const n = Number(v)
  if (!(Number.isFinite(n) && n > 0)) throw new InvalidArgumentError(`${what} must be a positive number`)
  return n
}
/** A count: a whole number of at least 1 (0.5 devices used to become 0 and run for ever). */
export const count = (what: string) => (v: string) => {
  const n = Number(v)
  if (!(Number.isSafeInteger(n) && n >= 1))
    throw new InvalidArgumentError(`${what} must be a whole number of at least 1`)
  return n
}
/** A seed: any whole number ("abc" used to run as seed NaN, 1.9e3 as seed 1). */
export const seed = (v: string) => {
  const n = Number(v)
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('--seed must be a whole number')
  return n
}

/** The simulated clock's start: the time of day drives the circadian values and device schedules. */
function startTime(v: string): number {
  const ms = Date.parse(v)
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(v) || Number.isNaN(ms))
    throw new InvalidArgumentError('--start must be an ISO 8601 time, e.g. 2026-12-01T08:00:00Z')
  return ms
}

/** The first of these scenarios no patient of the fleet can show (no device measures it), if any. */
function unshowable(plan: FleetPlan, kinds: ScenarioKind[]): ScenarioKind | undefined {
  return kinds.find((kind) => candidates(plan, kind).length === 0)
}

/**
 * An argument error when no patient of the fleet can show one of these scenarios, saying which, what
 * devices the fleet has, and (`advice`) what to change; `before` leads the message.
 */
export function requireShowable(
  plan: FleetPlan,
  kinds: ScenarioKind[],
  words: { before?: string; advice: string },
): void {
  const missing = unshowable(plan, kinds)
  if (!missing) return
  const devices = [...new Set(plan.devices.map((d) => d.kind))].join(', ')
  throw new VitalwireError(
    'VW_ERR_CLI_ARGUMENT',
    `${words.before ?? ''}no simulated patient can show ${missing}: it needs ${whatShows(missing)}, and the fleet's ${plan.devices.length} devices are ${devices}; ${words.advice}`,
  )
}

const wrap =
  <T>(fn: (v: string) => T) =>
  (v: string) => {
    try {
      return fn(v)
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message)
    }
  }

interface SimulateOptions {
  devices: number
  rate?: number | 'max'
  duration?: number
  seed: number
  enroll?: boolean
  profile: ProfileChoice
  scenario?: ReturnType<typeof parseScenarioList>
  faults?: ReturnType<typeof parseFaults>
  timeScale: number
  url?: string
  ca?: string
  window: number
  vendorFormats?: boolean
  start?: number
  json?: boolean
}

export function simulateCommands(program: Command) {
  program
    .command('simulate')
    .description('drive Vitalwire with a simulated fleet of devices over MQTT/TLS')
    .requiredOption('--devices <n>', 'number of devices', count('--devices'))
    .option(
      '--rate <r>',
      "load mode: messages/s across the fleet, or 'max' (default: realistic cadence)",
      (v) => (v === 'max' ? 'max' : positive('--rate')(v)),
    )
    .option('--duration <s>', 'stop after this many seconds', positive('--duration'))
    .option('--seed <n>', 'seed: the same seed gives the same patients and values', seed, 1)
    .option('--enroll', 'provision the simulated patients and devices in the data dir first')
    .option(
      '--vendor-formats',
      "cuffs, scales, oximeters and glucometers send their vendor's format (ingest/mappings/vendors), enrolled with that mapping",
    )
    .addOption(
      new Option('--profile <profile>', 'clinical profile of the patients')
        .choices([...PROFILES, 'mixed'])
        .default('mixed'),
    )
    .option(
      '--scenario <list>',
      `scenarios, each name[@offset]: ${SCENARIOS.join(', ')}`,
      wrap(parseScenarioList),
    )
    .option(
      '--faults <list>',
      'offline[=s],duplicates[=p],skew,malformed[=p],reconnect-storm[=s]',
      wrap(parseFaults),
    )
    .option('--time-scale <x>', 'simulated seconds per real second', positive('--time-scale'), 1)
    .option(
      '--start <time>',
      'simulated start, ISO 8601 (default: now): with --seed, the same values and schedule whenever it runs',
      startTime,
    )
    .option(
      '--url <url>',
      'broker URL (default: this data dir server, mqtts://localhost:VITALWIRE_MQTT_PORT)',
    )
    .option('--ca <file>', 'CA certificate to trust (default: <data>/pki/ca.crt)')
    .option('--window <n>', 'load mode: QoS 1 messages in flight per device', count('--window'), 8)
    .option('--json', 'print one JSON summary object at the end')
    .action(async (o: SimulateOptions) => runSimulateCommand(o))
}

async function runSimulateCommand(o: SimulateOptions) {
  // Loaded on use: other commands should not pay for mqtt.js and storage at start-up.
  const [{ enrollFleet, readState, secretsFor }, { planFleet }, { startSimulation }] = await Promise.all([
    import('../simulators/enroll.ts'),
    import('../simulators/fleet.ts'),
    import('../simulators/run.ts'),
  ])
  const config = configFromEnv()
  const plan = planFleet({
    devices: o.devices,
    profile: o.profile,
    vendorFormats: o.vendorFormats,
  })
  requireShowable(
    plan,
    (o.scenario ?? []).map((x) => x.kind),
    { advice: 'add devices (--devices) or choose a profile with such a device (--profile)' },
  )
  let secrets: Record<string, string>
  try {
    secrets = o.enroll ? await enrollFleet(plan, config) : secretsFor(plan, readState(config.dataDir))
  } catch (e) {
    throw new VitalwireError('VW_ERR_CLI_ARGUMENT', (e as Error).message)
  }
  const caFile = o.ca ?? `${config.pkiDir}/ca.crt`
  if (!o.url && config.mqtt.port === 0)
    throw new VitalwireError(
      'VW_ERR_CLI_ARGUMENT',
      'VITALWIRE_MQTT_PORT is 0 (the server picks a free port at start): pass --url with the address its ready line shows',
    )
  const url = o.url ?? `mqtts://localhost:${config.mqtt.port}`
  let ca: string
  try {
    ca = fs.readFileSync(caFile, 'utf8')
  } catch (e) {
    throw new VitalwireError(
      'VW_ERR_CLI_ARGUMENT',
      `cannot read the CA certificate ${caFile} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): pass --ca, or set VITALWIRE_DATA_DIR to the server's data dir`,
    )
  }
  const sim = await startSimulation({
    url,
    ca,
    secrets,
    plan,
    seed: o.seed,
    timeScale: o.timeScale,
    startSimMs: o.start,
    rate: o.rate,
    window: o.window,
    durationMs: o.duration === undefined ? undefined : o.duration * 1000,
    scenarios: o.scenario,
    faults: o.faults,
  }).catch((e: Error) => {
    throw new VitalwireError(
      'VW_ERR_CLI_ARGUMENT',
      `cannot connect the simulated devices to ${url}: ${e.message}; is the server running (vitalwire start), and is that its address?`,
      { cause: e },
    )
  })
  const live = process.stdout.isTTY && !o.json
  const log = (line: string) => {
    if (!o.json) process.stdout.write(`${live ? '\r\x1b[2K' : ''}${line}\n`)
  }
  log(`simulating ${plan.devices.length} devices for ${plan.patients.length} patients (seed ${o.seed})`)
  const ticker = live
    ? setInterval(() => {
        process.stdout.write(
          `\r\x1b[2K${statusLine(sim.stats.summary(), sim.stats.sampleRates(), sim.connected())}`,
        )
      }, 1000)
    : undefined
  let rl: readline.Interface | undefined
  if (live && process.stdin.isTTY) {
    log(`type a scenario name and Enter to inject it (${SCENARIOS.join(', ')}); Ctrl+C stops`)
    rl = readline.createInterface({ input: process.stdin })
    rl.on('line', (line) => {
      const kind = line.trim()
      if (!isScenarioKind(kind)) return log(`unknown scenario ${JSON.stringify(kind)}`)
      if (unshowable(plan, [kind]))
        return log(
          `no simulated patient can show ${kind} (it needs ${whatShows(kind)}); the simulation goes on`,
        )
      const s = sim.inject(kind)
      log(`injected ${kind} for ${s.patientId}`)
    })
  }
  const onSignal = () => void sim.stop()
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  const summary = await sim.done
  if (ticker) clearInterval(ticker)
  rl?.close()
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  if (o.json) process.stdout.write(`${JSON.stringify(summary)}\n`)
  else
    log(
      `done: ${statusLine(summary, { sentPerS: summary.sent / summary.elapsedS, ackedPerS: summary.ackedPerS }, plan.devices.length)}`,
    )
}
