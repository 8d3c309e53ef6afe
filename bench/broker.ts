#!/usr/bin/env node
// Broker benchmark (not a timed test): TLS connections established per second and memory per idle
// connected device, for Vitalwire's broker and for Mosquitto on the same machine, certificates and load.
//
//   node bench/broker.ts [--devices 5000] [--cert-devices 2000] [--concurrency 64] [--clients 2]
//                        [--no-mosquitto] [--profile DIR] [--out FILE] [--server-flags '...']
//   node bench/broker.ts --quick      # iterations: 1000 + 250 devices, no Mosquitto, result in the
//                                     # temp dir (bench/results/broker.json is left alone), ~1 min
//
// The server runs as a child process (with --expose-gc) so the load generator's memory is separate.
// The load generator speaks raw MQTT 3.1.1 over node:tls (CONNECT, wait for CONNACK 0), from --clients
// child processes (a Node TLS client spends about as much CPU per handshake as the server, so one
// client thread would cap the rate). Phases: full handshakes (first connect, reconnect, client
// certificate) and TLS session resumption (each device reconnects with the ticket of its last session).
// On one machine the load generator shares the cores with the server: the server's CPU time per
// connection (and the per-core capacity derived from it) is the figure that load does not distort.
// Writes bench/results/broker.json.

import { execFileSync, fork, spawn } from 'node:child_process'
import { pbkdf2Sync, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import { Session } from 'node:inspector/promises'
import os from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import { parseArgs } from 'node:util'
import { COMPONENTS, startVitalwire } from '../main.ts'
import { loadConfig } from '../shared/config.ts'
import { hashDeviceSecret } from '../shared/device-secret.ts'
import { createLogger } from '../shared/logger.ts'
import { describeCertificate, ensureDevelopmentPki, issueCertificate } from '../shared/pki.ts'
import { generateSecret } from '../shared/secrets.ts'
import { openEmbeddedStorage } from '../storage/sqlite/index.ts'

const { values: opt } = parseArgs({
  options: {
    server: { type: 'boolean', default: false },
    devices: { type: 'string' },
    'cert-devices': { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    concurrency: { type: 'string', default: '64' },
    'no-mosquitto': { type: 'boolean', default: false },
    load: { type: 'boolean', default: false },
    clients: { type: 'string', default: '2' },
    profile: { type: 'string' },
    // Node/V8 flags for the server process only, e.g. '--single-threaded-gc' (recorded in the results).
    'server-flags': { type: 'string' },
    // Devices for the Mosquitto run; by default as many as Vitalwire's (--devices, --cert-devices).
    'mosquitto-devices': { type: 'string' },
  },
})
opt.devices ??= opt.quick ? '1000' : '5000'
opt['cert-devices'] ??= opt.quick ? '250' : '2000'
if (opt.quick) opt['no-mosquitto'] = true

type Creds = { id: string; secret?: string; cert?: string; key?: string }
type Mem = { rss: number; heapUsed: number; external: number }

// --profile DIR: the server's CPU profile of each connect phase alone, as DIR/server-<phase>.cpuprofile
// (print the top functions with any .cpuprofile reader; the set-up and the disconnects are left out).
let inspector: Session | undefined
async function profile(m: string) {
  if (!inspector) {
    inspector = new Session()
    inspector.connect()
    await inspector.post('Profiler.enable')
  }
  if (m === 'profile:start') return void (await inspector.post('Profiler.start'))
  const { profile: p } = await inspector.post('Profiler.stop')
  fs.mkdirSync(opt.profile!, { recursive: true })
  fs.writeFileSync(
    path.join(opt.profile!, `server-${m.slice('profile:stop:'.length)}.cpuprofile`),
    JSON.stringify(p),
  )
}

/** Child process: Vitalwire's broker (+ ingest) exactly as `vitalwire start --only broker,ingest`. */
async function serve() {
  const running = await startVitalwire(
    loadConfig(process.env),
    createLogger({ level: 'error' }),
    new Set(COMPONENTS.filter((c) => c === 'broker' || c === 'ingest')),
  )
  let connected = 0
  running.events.on('device-status', (s) => {
    if (s.battery === undefined) connected += s.connected ? 1 : -1
  })
  process.on('message', (m: string) => {
    if (m === 'mem') {
      for (let i = 0; i < 3; i++) globalThis.gc?.()
      const u = process.memoryUsage()
      const c = process.cpuUsage()
      const cpuMs = (c.user + c.system) / 1000
      process.send!({ kind: 'mem', rss: u.rss, heapUsed: u.heapUsed, external: u.external, connected, cpuMs })
    }
    // Polled every 100 ms while waiting for all devices up or down: no forced GC here (the full GCs of
    // 'mem' would run ten times a second and skew V8's heap-growing heuristics going into a phase).
    if (m === 'count') process.send!({ kind: 'count', connected })
    if (m === 'cpu') {
      const c = process.cpuUsage()
      const t = process.threadCpuUsage() // the event loop's thread only (not V8's GC helpers)
      process.send!({ kind: 'cpu', cpuMs: (c.user + c.system) / 1000, mainMs: (t.user + t.system) / 1000 })
    }
    if (m === 'stop') void running.close().then(() => process.exit(0))
    if (m.startsWith('profile:')) void profile(m).then(() => process.send!({ kind: 'profiled' }))
  })
  process.send!({ kind: 'ready', port: running.mqttPort })
}

function connectPacket(id: string, user?: string, pass?: string): Buffer {
  const str = (s: string) => {
    const b = Buffer.from(s)
    return Buffer.concat([Buffer.from([b.length >> 8, b.length & 0xff]), b])
  }
  const flags = 0x02 | (user ? 0x80 : 0) | (pass ? 0x40 : 0) // clean session, username, password
  const keepaliveS = 600 // idle devices: no PINGREQ during the measurement
  const body = Buffer.concat([
    str('MQTT'),
    Buffer.from([4, flags, keepaliveS >> 8, keepaliveS & 0xff]),
    str(id),
    ...(user ? [str(user)] : []),
    ...(pass ? [str(pass)] : []),
  ])
  const len: number[] = []
  let n = body.length
  do {
    len.push((n % 128) | (n >= 128 ? 0x80 : 0))
    n = Math.floor(n / 128)
  } while (n > 0)
  return Buffer.concat([Buffer.from([0x10, ...len]), body])
}

// Mosquitto 2.0.11 over TLS 1.3 now and then never answers a CONNECT sent right after the handshake;
// such a connection is retried once and counted as a stall rather than failing the run.
const STALL_MS = 5_000

/**
 * Load generator process (`--load`): connects its share of the devices when told to, keeps the sockets
 * open until told to close them, and keeps each device's TLS session (ticket) so a later phase can
 * resume it the way a reconnecting device does. Several of these run beside the server, so the load
 * generator's own TLS work (about as much CPU per handshake as the server's) is spread over processes
 * instead of capping the measurement at what one client thread can do.
 */
function loadGenerator() {
  type Job = {
    port: number
    ca: string
    devices: Creds[]
    concurrency: number
    resume: boolean
    /** Keep the session tickets of this phase for a later resumed phase (a 'session' event per ticket). */
    keepTickets: boolean
    groups: string
  }
  const sessions = new Map<string, Buffer>()
  const contexts = new Map<string, tls.SecureContext>()
  const packets = new Map<string, Buffer>() // each device's CONNECT, built once
  let job: Job | undefined
  let sockets: tls.TLSSocket[] = []
  let stalls = 0
  const contextFor = (c: Creds) => {
    const key = `${job!.groups} ${c.cert ? c.id : ''}`
    let ctx = contexts.get(key)
    if (!ctx) {
      // ecdhCurve: one key share, for the group the server will pick (see KEY_SHARE), not Node's two.
      ctx = tls.createSecureContext({ ca: job!.ca, cert: c.cert, key: c.key, ecdhCurve: job!.groups })
      contexts.set(key, ctx)
    }
    return ctx
  }
  const once = (c: Creds, session?: Buffer) =>
    new Promise<tls.TLSSocket>((resolve, reject) => {
      const s = tls.connect({
        host: '127.0.0.1',
        port: job!.port,
        servername: 'localhost',
        secureContext: contextFor(c),
        session,
      })
      if (job!.keepTickets) s.on('session', (ticket: Buffer) => sessions.set(c.id, ticket))
      s.setTimeout(STALL_MS, () => s.destroy(new Error(`stalled: no CONNACK within ${STALL_MS} ms: ${c.id}`)))
      s.once('error', reject)
      s.once('secureConnect', () => s.write(packets.get(c.id)!))
      s.once('data', (d: Buffer) => {
        s.setTimeout(0)
        if (d[0] === 0x20 && d[3] === 0) resolve(s)
        else reject(new Error(`CONNACK ${d[3]} for ${c.id}`))
      })
      s.once('close', () => reject(new Error(`closed before CONNACK: ${c.id}`)))
    })
  const connect = async (c: Creds) => {
    const session = job!.resume ? sessions.get(c.id) : undefined
    try {
      return await once(c, session)
    } catch (e) {
      if (!String((e as Error).message).startsWith('stalled')) throw e
      stalls++
      return once(c, session)
    }
  }
  process.on('message', async (m: { kind: string; job?: Job }) => {
    if (m.kind === 'prepare') {
      job = m.job!
      // Parsing keys and building CONNECT packets is set-up, not handshake cost.
      for (const c of job.devices) {
        contextFor(c)
        packets.set(c.id, connectPacket(c.id, c.secret ? c.id : undefined, c.secret))
      }
      process.send!({ kind: 'prepared' })
    }
    if (m.kind === 'go') {
      const cpu0 = process.cpuUsage()
      let next = 0
      stalls = 0
      sockets = []
      const devices = job!.devices
      await Promise.all(
        Array.from({ length: job!.concurrency }, async () => {
          while (next < devices.length) sockets.push(await connect(devices[next++]))
        }),
      )
      const cpu = process.cpuUsage(cpu0)
      process.send!({
        kind: 'done',
        cpuMs: (cpu.user + cpu.system) / 1000,
        stalled: stalls,
        protocol: sockets[0]?.getProtocol(),
        group: (sockets[0]?.getEphemeralKeyInfo() as tls.EphemeralKeyInfo | undefined)?.name,
        resumed: sockets.filter((s) => s.isSessionReused()).length,
      })
    }
    if (m.kind === 'close') {
      await closeAll(sockets)
      sockets = []
      process.send!({ kind: 'closed' })
    }
    if (m.kind === 'exit') process.exit(0)
  })
  process.send!({ kind: 'ready' })
}

type Reply = {
  kind: string
  cpuMs: number
  stalled: number
  protocol?: string
  group?: string
  resumed: number
}

/**
 * The load generator's key share. Node 24 (OpenSSL 3.5) offers two by default, X25519MLKEM768 and
 * X25519, and computes both; a device sends one, for the group its server uses. Vitalwire's broker (Node)
 * picks the post-quantum hybrid X25519MLKEM768; Mosquitto 2.0.11 here (OpenSSL 3.0) has no ML-KEM and
 * picks X25519. The negotiated group is in the results.
 */
const KEY_SHARE = { vitalwire: 'X25519MLKEM768:X25519:P-256', mosquitto: 'X25519:P-256' }

/** The load generator processes; device i always goes to process i % n, so its TLS session stays there. */
function startLoad(n: number) {
  const procs = Array.from({ length: n }, () =>
    fork(import.meta.filename, ['--load'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  )
  const ready = Promise.all(procs.map((p) => new Promise((r) => p.once('message', r))))
  const all = (m: object) =>
    Promise.all(
      procs.map(
        (p) =>
          new Promise<Reply>((r) => {
            p.once('message', (x: Reply) => r(x))
            p.send(m)
          }),
      ),
    )
  return {
    /** Connect every device with `concurrency` handshakes in flight in all; connections per second. */
    async connectAll(
      port: number,
      ca: string,
      devices: Creds[],
      concurrency: number,
      { resume = false, keepTickets = false, groups = KEY_SHARE.vitalwire } = {},
    ) {
      await ready
      const kind = `${devices[0].secret ? 'secret' : 'cert'}${resume ? ', resumed' : ''}`
      console.error(`connecting ${devices.length} devices (${kind}) to :${port} from ${n} processes`)
      await Promise.all(
        procs.map(
          (p, i) =>
            new Promise((r) => {
              p.once('message', r)
              p.send({
                kind: 'prepare',
                job: {
                  port,
                  ca,
                  devices: devices.filter((_, j) => j % n === i),
                  concurrency: Math.ceil(concurrency / n),
                  resume,
                  keepTickets,
                  groups,
                },
              })
            }),
        ),
      )
      const t0 = performance.now()
      const replies = await all({ kind: 'go' })
      const seconds = (performance.now() - t0) / 1000
      const sum = (f: (r: Reply) => number) => replies.reduce((a, r) => a + f(r), 0)
      return {
        perSecond: Math.round(devices.length / seconds),
        protocol: replies[0].protocol,
        group: replies[0].group,
        stalled: sum((r) => r.stalled),
        resumed: sum((r) => r.resumed),
        clientCpuMs: Math.round((sum((r) => r.cpuMs) / devices.length) * 100) / 100,
      }
    },
    async closeAll() {
      await all({ kind: 'close' })
    },
    async stop() {
      for (const p of procs) p.send({ kind: 'exit' })
      await Promise.all(
        procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(0) : p.once('exit', r)))),
      )
    },
  }
}
type Load = ReturnType<typeof startLoad>

async function closeAll(sockets: tls.TLSSocket[]) {
  await Promise.all(
    sockets.map(
      (s) =>
        new Promise<void>((r) => {
          if (s.closed) return r()
          s.once('close', () => r())
          s.destroy()
        }),
    ),
  )
}

function rssOf(pid: number): number {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)
  return Number(m![1]) * 1024
}

const kib = (bytes: number) => Math.round((bytes / 1024) * 10) / 10

async function untilTrue(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function provision(dir: string, secretDevices: number, certDevices: number) {
  const pki = await ensureDevelopmentPki(path.join(dir, 'pki'))
  const storage = openEmbeddedStorage({ dataDir: dir, dbPath: path.join(dir, 'vitalwire.db'), outbox: false })
  await storage.registry.addPatient({ id: 'bench', name: 'Bench Patient' })
  // One secret for every device keeps set-up quick; the broker verifies it for each device id as usual.
  const secret = generateSecret()
  const secretHash = hashDeviceSecret(secret)
  const secrets: Creds[] = []
  for (let i = 0; i < secretDevices; i++) {
    const id = `s-${i}`
    await storage.registry.addDevice({ id, patientId: 'bench', type: 'generic', auth: 'secret', secretHash })
    secrets.push({ id, secret })
  }
  const certs: Creds[] = []
  for (let i = 0; i < certDevices; i++) {
    const id = `c-${i}`
    const { cert, key } = await issueCertificate(pki, { commonName: id, usage: 'client', days: 30 })
    const info = describeCertificate(cert)
    await storage.registry.addDevice({
      id,
      patientId: 'bench',
      type: 'generic',
      auth: 'cert',
      certFingerprint: info.fingerprint256,
      certNotAfterMs: info.notAfterMs,
    })
    certs.push({ id, cert, key })
  }
  storage.close()
  return { pki, secrets, certs, ca: fs.readFileSync(pki.caCert, 'utf8') }
}

async function benchVitalwire(
  dir: string,
  p: Awaited<ReturnType<typeof provision>>,
  concurrency: number,
  load: Load,
) {
  const child = fork(import.meta.filename, ['--server', ...(opt.profile ? ['--profile', opt.profile] : [])], {
    execArgv: ['--expose-gc', ...(opt['server-flags']?.split(' ').filter(Boolean) ?? [])],
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
  // Server CPU per connection tells the handshake's cost apart from the machine's other load.
  type Cpu = { cpuMs: number; mainMs: number }
  const phase = async (
    name: string,
    devices: Creds[],
    how: { resume?: boolean; keepTickets?: boolean } = {},
  ) => {
    if (opt.profile) await ask('profile:start')
    const c0 = await ask<Cpu>('cpu')
    const r = await load.connectAll(port, p.ca, devices, concurrency, how)
    const c1 = await ask<Cpu>('cpu')
    if (opt.profile) await ask(`profile:stop:${name}`)
    const per = (ms: number) => Math.round((ms / devices.length) * 100) / 100
    return { ...r, cpuMs: per(c1.cpuMs - c0.cpuMs), mainMs: per(c1.mainMs - c0.mainMs) }
  }
  const connected = async () => (await ask<{ connected: number }>('count')).connected
  const allUp = (n: number) => untilTrue(async () => (await connected()) === n, 'all up')
  const closeEverything = async () => {
    await load.closeAll()
    await untilTrue(async () => (await connected()) === 0, 'all down')
  }
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
  child.send('stop')
  await new Promise((r) => child.once('exit', r))
  const n = p.secrets.length
  const phases = {
    secretFirstConnect: cold,
    secretReconnect: warm,
    secretResumed: resumed,
    cert,
    certResumed,
  }
  const each = <T>(f: (r: typeof cold) => T) =>
    Object.fromEntries(Object.entries(phases).map(([k, r]) => [k, f(r)])) as Record<keyof typeof phases, T>
  return {
    tlsProtocol: cold.protocol,
    keyExchange: cold.group,
    loadProcesses: Number(opt.clients),
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

async function startMosquitto(dir: string, name: string, lines: string[]) {
  const port = await new Promise<number>((r) => {
    const s = tls.createServer().listen(0, '127.0.0.1', () => {
      const a = s.address() as { port: number }
      s.close(() => r(a.port))
    })
  })
  const conf = path.join(dir, `${name}.conf`)
  // Errors and warnings only, and always read: Mosquitto logs two notice lines per connection, and an
  // unread stderr pipe filled up after ~520 connections and blocked it (the "stall" of earlier runs).
  const log = ['log_dest stderr', 'log_type error', 'log_type warning']
  fs.writeFileSync(
    conf,
    [`listener ${port} 127.0.0.1`, 'max_connections -1', ...log, ...lines, ''].join('\n'),
  )
  const proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let tail = ''
  proc.stderr?.on('data', (d) => {
    tail = (tail + d).slice(-2000)
  })
  proc.once('exit', (code) => {
    if (code) process.stderr.write(`mosquitto exited with ${code}: ${tail}\n`)
  })
  await untilTrue(
    () =>
      new Promise<boolean>((r) =>
        tls
          .connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
          .once('secureConnect', function (this: tls.TLSSocket) {
            this.destroy()
            r(true)
          })
          .once('error', () => r(false)),
      ),
    'mosquitto listening',
  )
  return { proc, port }
}

/** SIGTERM, then SIGKILL: Mosquitto 2.0.11 here sometimes ignored SIGTERM and kept the bench waiting. */
async function stopMosquitto(proc: ReturnType<typeof spawn>) {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise((r) => proc.once('exit', r))
  proc.kill()
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}

async function benchMosquitto(
  dir: string,
  all: Awaited<ReturnType<typeof provision>>,
  concurrency: number,
  load: Load,
) {
  const m = Number(opt['mosquitto-devices'] ?? Math.max(all.secrets.length, all.certs.length))
  const p = { ...all, secrets: all.secrets.slice(0, m), certs: all.certs.slice(0, m) }
  const mdir = path.join(dir, 'mosquitto')
  fs.mkdirSync(mdir, { mode: 0o755 })
  for (const f of ['caCert', 'serverCert', 'serverKey'] as const)
    fs.copyFileSync(p.pki[f], path.join(mdir, f))
  const lines = p.secrets.map((d) => {
    const salt = randomBytes(12) // mosquitto_passwd's own format: $7$ = PBKDF2-SHA512, 101 iterations
    const hash = pbkdf2Sync(d.secret!, salt, 101, 64, 'sha512')
    return `${d.id}:$7$101$${salt.toString('base64')}$${hash.toString('base64')}`
  })
  fs.writeFileSync(path.join(mdir, 'passwd'), `${lines.join('\n')}\n`)
  for (const f of fs.readdirSync(mdir)) fs.chmodSync(path.join(mdir, f), 0o644) // mosquitto drops root
  fs.chmodSync(dir, 0o755)
  const tlsLines = [`cafile ${mdir}/caCert`, `certfile ${mdir}/serverCert`, `keyfile ${mdir}/serverKey`]
  const secretM = await startMosquitto(mdir, 'secret', [
    ...tlsLines,
    `password_file ${mdir}/passwd`,
    'allow_anonymous false',
  ])
  // Mosquitto has no JIT to warm: one pass from a fresh process (a second pass with the same ids
  // stalled on takeovers of the abruptly closed first-pass connections in 2.0.11).
  const before = rssOf(secretM.proc.pid!)
  const up = await load.connectAll(secretM.port, p.ca, p.secrets, concurrency, {
    groups: KEY_SHARE.mosquitto,
  })
  const after = rssOf(secretM.proc.pid!)
  await load.closeAll()
  await stopMosquitto(secretM.proc)
  const certM = await startMosquitto(mdir, 'cert', [
    ...tlsLines,
    'require_certificate true',
    'use_identity_as_username true',
    'allow_anonymous false',
  ])
  const cert = await load.connectAll(certM.port, p.ca, p.certs, concurrency, { groups: KEY_SHARE.mosquitto })
  await load.closeAll()
  await stopMosquitto(certM.proc)
  return {
    tlsProtocol: up.protocol,
    keyExchange: up.group,
    connectionsPerSecond: { secret: up.perSecond, cert: cert.perSecond },
    stalledConnectsRetried: { secret: up.stalled, cert: cert.stalled },
    memory: { idleDevices: p.secrets.length, rssPerDeviceKiB: kib((after - before) / p.secrets.length) },
  }
}

async function main() {
  const devices = Number(opt.devices)
  const concurrency = Number(opt.concurrency)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-bench-'))
  const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).trim()
  const machine = {
    cpu: os.cpus()[0]?.model,
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    openssl: process.versions.openssl,
    mosquitto: sh('sh', ['-c', 'mosquitto -h 2>&1 | head -1']),
    uptimeBefore: sh('uptime', []),
  }
  console.log(machine)
  const p = await provision(dir, devices, Number(opt['cert-devices']))
  const load = startLoad(Number(opt.clients))
  const vitalwire = await benchVitalwire(dir, p, concurrency, load)
  console.dir({ vitalwire }, { depth: 4 })
  const mosquitto = opt['no-mosquitto'] ? undefined : await benchMosquitto(dir, p, concurrency, load)
  console.log({ mosquitto })
  await load.stop()
  const result = {
    at: new Date().toISOString(),
    machine: { ...machine, uptimeAfter: sh('uptime', []) },
    settings: {
      devices,
      certDevices: p.certs.length,
      concurrency,
      loadProcesses: Number(opt.clients),
      certificates: 'ECDSA P-256',
      keepaliveS: 600,
      serverFlags: opt['server-flags'],
    },
    vitalwire,
    mosquitto,
  }
  const out =
    opt.out ??
    (opt.quick
      ? path.join(os.tmpdir(), 'broker-quick.json')
      : path.join(import.meta.dirname, 'results', 'broker.json'))
  fs.mkdirSync(path.dirname(out), { recursive: true })
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
  console.log(`wrote ${out}`)
  fs.rmSync(dir, { recursive: true, force: true })
}

// Last, so every module-level constant above is initialised before either mode runs.
if (opt.server) await serve()
else if (opt.load) loadGenerator()
else await main()
