import { fork } from 'node:child_process'
import type { Load } from './load.ts'
import type { Creds, Provisioned } from './provision.ts'
import type { Mem } from './server.ts'
import { kib, untilTrue } from './util.ts'

// Vitalwire's run: the server child, the connect phases against it, and the figures per connection.

export type ServerOptions = {
  /** bench/broker.ts, forked with --server. */
  entry: string
  profile?: string
  /** Node/V8 flags for the server process only. */
  serverFlags?: string
  loadProcesses: number
}

async function startServer(dir: string, o: ServerOptions) {
  const child = fork(o.entry, ['--server', ...(o.profile ? ['--profile', o.profile] : [])], {
    execArgv: ['--expose-gc', ...(o.serverFlags?.split(' ').filter(Boolean) ?? [])],
    env: {
      ...process.env,
      VITALWIRE_DATA_DIR: dir,
      VITALWIRE_MQTT_PORT: '0',
      VITALWIRE_LOG_LEVEL: 'error',
      VITALWIRE_MQTT_AUTH_FAILURES_PER_MIN: '100000',
      VITALWIRE_MQTT_MAX_CONNECTIONS: '100000',
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
  const ask = <T>(m: string) =>
    new Promise<T>((r) => {
      child.once('message', (x: any) => r(x as T))
      child.send(m)
    })
  const { port } = await new Promise<{ port: number }>((r) => child.once('message', (m: any) => r(m)))
  const stop = async () => {
    child.send('stop')
    await new Promise((r) => child.once('exit', r))
  }
  return { ask, port, stop }
}
type Server = Awaited<ReturnType<typeof startServer>>

/** A connect phase and the waits between phases, for one server, load and set of credentials. */
function phasesOn(server: Server, load: Load, ca: string, concurrency: number, profile: boolean) {
  const { ask, port } = server
  // Server CPU per connection tells the handshake's cost apart from the machine's other load.
  type Cpu = { cpuMs: number; mainMs: number }
  const phase = async (
    name: string,
    devices: Creds[],
    how: { resume?: boolean; keepTickets?: boolean } = {},
  ) => {
    if (profile) await ask('profile:start')
    const c0 = await ask<Cpu>('cpu')
    const r = await load.connectAll(port, ca, devices, concurrency, how)
    const c1 = await ask<Cpu>('cpu')
    if (profile) await ask(`profile:stop:${name}`)
    const per = (ms: number) => Math.round((ms / devices.length) * 100) / 100
    return { ...r, cpuMs: per(c1.cpuMs - c0.cpuMs), mainMs: per(c1.mainMs - c0.mainMs) }
  }
  const connected = async () => (await ask<{ connected: number }>('count')).connected
  const allUp = (n: number) => untilTrue(async () => (await connected()) === n, 'all up')
  const closeEverything = async () => {
    await load.closeAll()
    await untilTrue(async () => (await connected()) === 0, 'all down')
  }
  return { phase, allUp, closeEverything }
}
type Phase = Awaited<ReturnType<ReturnType<typeof phasesOn>['phase']>>

export async function benchVitalwire(
  dir: string,
  p: Provisioned,
  concurrency: number,
  load: Load,
  o: ServerOptions,
) {
  const server = await startServer(dir, o)
  const { ask } = server
  const { phase, allUp, closeEverything } = phasesOn(server, load, p.ca, concurrency, Boolean(o.profile))
  // First pass: every device is authenticated for the first time. It also warms the JIT and the
  // allocator, so the memory measured on the second pass is what each idle connected device costs,
  // not start-up growth.
  const fresh = await ask<Mem>('mem')
  const cold = await phase('secret-first', p.secrets)
  await allUp(p.secrets.length)
  const coldUp = await ask<Mem>('mem')
  await closeEverything()
  const before = await ask<Mem>('mem')
  const warm = await phase('secret-reconnect', p.secrets, { keepTickets: true })
  await allUp(p.secrets.length)
  const after = await ask<Mem>('mem')
  await closeEverything()
  // Reconnect with the session ticket each device got on its last connection (TLS session resumption).
  const resumed = await phase('secret-resumed', p.secrets, { resume: true })
  await closeEverything()
  const cert = await phase('cert', p.certs, { keepTickets: true })
  await closeEverything()
  const certResumed = await phase('cert-resumed', p.certs, { resume: true })
  await closeEverything()
  await server.stop()
  const phases = {
    secretFirstConnect: cold,
    secretReconnect: warm,
    secretResumed: resumed,
    cert,
    certResumed,
  }
  return summarise(phases, { fresh, coldUp, before, after }, p.secrets.length, o.loadProcesses)
}

function summarise(
  phases: Record<'secretFirstConnect' | 'secretReconnect' | 'secretResumed' | 'cert' | 'certResumed', Phase>,
  { fresh, coldUp, before, after }: Record<'fresh' | 'coldUp' | 'before' | 'after', Mem>,
  n: number,
  loadProcesses: number,
) {
  const cold = phases.secretFirstConnect
  const each = <T>(f: (r: Phase) => T) =>
    Object.fromEntries(Object.entries(phases).map(([k, r]) => [k, f(r)])) as Record<keyof typeof phases, T>
  return {
    tlsProtocol: cold.protocol,
    keyExchange: cold.group,
    loadProcesses,
    connectionsPerSecond: each((r) => r.perSecond),
    serverCpuMsPerConnection: each((r) => r.cpuMs),
    /** Of which the event loop's thread; the rest is other threads, mostly V8's GC helpers. */
    serverMainThreadCpuMsPerConnection: each((r) => r.mainMs),
    /** Connections the server could accept per second on one core, from its CPU time per connection. */
    serverCapacityPerCore: each((r) => Math.round(1000 / r.cpuMs)),
    loadGeneratorCpuMsPerConnection: each((r) => r.clientCpuMs),
    /** Server + load generator: what one connection costs the machine; 2 cores / this = the ceiling. */
    machineCpuMsPerConnection: each((r) => Math.round((r.cpuMs + r.clientCpuMs) * 100) / 100),
    sessionsResumed: each((r) => r.resumed),
    stalledConnectsRetried: each((r) => r.stalled),
    memory: {
      idleDevices: n,
      rssPerDeviceKiB: kib((after.rss - before.rss) / n),
      firstPassRssPerDeviceKiB: kib((coldUp.rss - fresh.rss) / n),
      firstPassHeapPerDeviceKiB: kib((coldUp.heapUsed - fresh.heapUsed) / n),
      heapPerDeviceKiB: kib((after.heapUsed - before.heapUsed) / n),
      externalPerDeviceKiB: kib((after.external - before.external) / n),
      rssBeforeMiB: Math.round(before.rss / 2 ** 20),
      rssAfterMiB: Math.round(after.rss / 2 ** 20),
    },
  }
}
