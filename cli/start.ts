import os from 'node:os'
import type { Command } from 'commander'
import type { Running } from '../main.ts'
import { COMPONENTS, type Component } from '../shared/components.ts'
import { VitalwireError } from '../shared/errors.ts'
import { configFromEnv, parseList } from './vitalwire.ts'

const wildcard = (host: string) => host === '0.0.0.0' || host === '::'

export async function runServer(
  only: Set<Component>,
  opts: {
    json?: boolean
    onReady?: (r: Running) => Promise<() => Promise<void>>
    /** Extra fields for the ready object and extra lines for the ready text (e.g. the demo login). */
    describe?: () => { json: Record<string, unknown>; lines: string[] }
  },
) {
  const config = configFromEnv()
  // Loaded here, not at the top: `vitalwire --help` and the provisioning commands stay fast.
  const [{ startVitalwire }, { createLogger }] = await Promise.all([
    import('../main.ts'),
    import('../shared/logger.ts'),
  ])
  const log = createLogger({ level: config.logLevel })
  const running = await startVitalwire(config, log, only)
  let extraStop: (() => Promise<void>) | undefined
  try {
    extraStop = opts.onReady ? await opts.onReady(running) : undefined
  } catch (e) {
    // What was to run beside the server (the demo's fleet) failed: stop the server too, never leave it
    // running half of what was asked for.
    await running.close()
    throw e
  }
  const ready = {
    status: 'ready',
    // Bound to every interface: the name devices can use (the server certificate carries it).
    mqtts:
      running.mqttPort !== undefined
        ? `mqtts://${wildcard(config.mqtt.host) ? os.hostname() : config.mqtt.host}:${running.mqttPort}`
        : undefined,
    mqtt:
      running.mqttPlainPort !== undefined
        ? `mqtt://${config.mqtt.plainHost}:${running.mqttPlainPort}`
        : undefined,
    http: running.httpUrl,
    dataDir: running.dataDir,
    ca: running.caCert,
    database: config.dbPath,
    readings: config.influx
      ? `InfluxDB ${config.influx.url} (database ${config.influx.database})`
      : 'embedded SQLite',
  }
  // Before the ready line: whoever reads it may stop the server at once (a supervisor, a test), and a
  // SIGTERM that arrived before the handler would kill the process without closing it.
  let stopping = false
  const stop = async (signal: string) => {
    if (stopping) return
    stopping = true
    log.info({ signal }, 'stopping')
    await extraStop?.()
    await running.close()
    log.info('stopped')
    log.flush()
    process.exit(0)
  }
  process.once('SIGINT', () => void stop('SIGINT'))
  process.once('SIGTERM', () => void stop('SIGTERM'))
  const extra = opts.describe?.()
  if (opts.json) process.stdout.write(`${JSON.stringify({ ...ready, ...extra?.json })}\n`)
  else {
    const lines = [
      'Vitalwire is running.',
      ready.mqtts &&
        `  devices (MQTT over TLS): ${ready.mqtts}   trust ${config.mqtt.tlsCert ? `the CA that issued ${ready.ca}` : ready.ca}`,
      ready.mqtt && `  devices (plain MQTT, loopback only): ${ready.mqtt}`,
      ready.http && `  dashboard and API:      ${ready.http}`,
      `  data:                   ${ready.dataDir}`,
      `  readings stored in:     ${ready.readings}`,
      ...(extra?.lines ?? []),
      // A first start says what to do next (in another terminal, same data dir).
      ready.http &&
        !(await running.hasUsers()) &&
        '  nobody can sign in yet: npx vitalwire users add --email you@example.org --role admin',
      !(await running.hasPatients()) &&
        '  no patients yet: npx vitalwire patients add --id p1 --name "Ada Lovelace", then\n' +
          '    npx vitalwire devices add --id hr-1 --patient p1   (prints how the device connects, and a test command)',
      'Press Ctrl+C to stop.',
    ]
    process.stdout.write(`${lines.filter(Boolean).join('\n')}\n`)
  }
}

export function startCommand(program: Command) {
  program
    .command('start')
    .description('start the broker, ingest, alerts and dashboard in one process (embedded defaults)')
    .option('--only <components>', `start only these components (${COMPONENTS.join(',')})`, parseList)
    .option('--json', 'print the ready line as one JSON object')
    .action(async (opts: { only?: string[]; json?: boolean }) => {
      const only = new Set((opts.only ?? [...COMPONENTS]) as Component[])
      for (const c of only) {
        if (!(COMPONENTS as readonly string[]).includes(c)) {
          throw new VitalwireError(
            'VW_ERR_CLI_ARGUMENT',
            `unknown component ${JSON.stringify(c)}; choose from ${COMPONENTS.join(', ')}`,
          )
        }
      }
      // Ingest runs inside the broker's publish hook (durable acceptance), so it comes with it.
      if (only.has('broker')) only.add('ingest')
      await runServer(only, opts)
    })
}
