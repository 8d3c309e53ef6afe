import tls from 'node:tls'
import type { Creds } from './provision.ts'

// The load generator child process (`node bench/broker.ts --load`): raw MQTT 3.1.1 over node:tls
// (CONNECT, wait for CONNACK 0).

export function connectPacket(id: string, user?: string, pass?: string): Buffer {
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

export type Job = {
  port: number
  ca: string
  devices: Creds[]
  concurrency: number
  resume: boolean
  /** Keep the session tickets of this phase for a later resumed phase (a 'session' event per ticket). */
  keepTickets: boolean
  groups: string
}

/** A load generator's answer to 'go' (and, by shape, to the other messages). */
export type Reply = {
  kind: string
  cpuMs: number
  stalled: number
  protocol?: string | null
  group?: string
  resumed: number
}

/** What one load generator process keeps between messages. */
type State = {
  job?: Job
  sessions: Map<string, Buffer>
  contexts: Map<string, tls.SecureContext>
  packets: Map<string, Buffer> // each device's CONNECT, built once
  sockets: tls.TLSSocket[]
  stalls: number
}

function contextFor(st: State, c: Creds) {
  const key = `${st.job!.groups} ${c.cert ? c.id : ''}`
  let ctx = st.contexts.get(key)
  if (!ctx) {
    // ecdhCurve: one key share, for the group the server will pick (see KEY_SHARE), not Node's two.
    ctx = tls.createSecureContext({ ca: st.job!.ca, cert: c.cert, key: c.key, ecdhCurve: st.job!.groups })
    st.contexts.set(key, ctx)
  }
  return ctx
}

function once(st: State, c: Creds, session?: Buffer) {
  return new Promise<tls.TLSSocket>((resolve, reject) => {
    const s = tls.connect({
      host: '127.0.0.1',
      port: st.job!.port,
      servername: 'localhost',
      secureContext: contextFor(st, c),
      session,
    })
    if (st.job!.keepTickets) s.on('session', (ticket: Buffer) => st.sessions.set(c.id, ticket))
    s.setTimeout(STALL_MS, () => s.destroy(new Error(`stalled: no CONNACK within ${STALL_MS} ms: ${c.id}`)))
    s.once('error', reject)
    s.once('secureConnect', () => s.write(st.packets.get(c.id)!))
    s.once('data', (d: Buffer) => {
      s.setTimeout(0)
      if (d[0] === 0x20 && d[3] === 0) resolve(s)
      else reject(new Error(`CONNACK ${d[3]} for ${c.id}`))
    })
    s.once('close', () => reject(new Error(`closed before CONNACK: ${c.id}`)))
  })
}

async function connect(st: State, c: Creds) {
  const session = st.job!.resume ? st.sessions.get(c.id) : undefined
  try {
    return await once(st, c, session)
  } catch (e) {
    if (!String((e as Error).message).startsWith('stalled')) throw e
    st.stalls++
    return once(st, c, session)
  }
}

function prepare(st: State, job: Job) {
  st.job = job
  // Parsing keys and building CONNECT packets is set-up, not handshake cost.
  for (const c of job.devices) {
    contextFor(st, c)
    st.packets.set(c.id, connectPacket(c.id, c.secret ? c.id : undefined, c.secret))
  }
}

/** Connects this process's devices, `concurrency` at a time, and keeps the sockets open. */
async function go(st: State): Promise<Reply> {
  const cpu0 = process.cpuUsage()
  let next = 0
  st.stalls = 0
  const sockets: tls.TLSSocket[] = []
  st.sockets = sockets
  const devices = st.job!.devices
  await Promise.all(
    Array.from({ length: st.job!.concurrency }, async () => {
      while (next < devices.length) sockets.push(await connect(st, devices[next++]))
    }),
  )
  const cpu = process.cpuUsage(cpu0)
  return {
    kind: 'done',
    cpuMs: (cpu.user + cpu.system) / 1000,
    stalled: st.stalls,
    protocol: sockets[0]?.getProtocol(),
    group: (sockets[0]?.getEphemeralKeyInfo() as tls.EphemeralKeyInfo | undefined)?.name,
    resumed: sockets.filter((s) => s.isSessionReused()).length,
  }
}

/**
 * Load generator process (`--load`): connects its share of the devices when told to, keeps the sockets
 * open until told to close them, and keeps each device's TLS session (ticket) so a later phase can
 * resume it the way a reconnecting device does. Several of these run beside the server, so the load
 * generator's own TLS work (about as much CPU per handshake as the server's) is spread over processes
 * instead of capping the measurement at what one client thread can do.
 */
export function loadGenerator() {
  const st: State = { sessions: new Map(), contexts: new Map(), packets: new Map(), sockets: [], stalls: 0 }
  process.on('message', async (m: { kind: string; job?: Job }) => {
    if (m.kind === 'prepare') {
      prepare(st, m.job!)
      process.send!({ kind: 'prepared' })
    }
    if (m.kind === 'go') process.send!(await go(st))
    if (m.kind === 'close') {
      await closeAll(st.sockets)
      st.sockets = []
      process.send!({ kind: 'closed' })
    }
    if (m.kind === 'exit') process.exit(0)
  })
  process.send!({ kind: 'ready' })
}

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
