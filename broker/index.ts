import type net from 'node:net'
import { Aedes, type Client, type PublishPacket } from 'aedes'
import { createAuthenticator } from './authenticate.ts'
import { callbackOnce } from './callback-once.ts'
import { trackDeviceStatus } from './device-status.ts'
import { createListeners, ipOfSocket } from './listeners.ts'
import type { BrokerDeps, BrokerOptions } from './options.ts'
import { createOutcomes } from './outcomes.ts'
import { guardPacketSize } from './packet-size.ts'
import { createPolicies, type Session } from './policies.ts'
import { createKeyedLimiter } from './rate-limit.ts'
import { isInternal } from './topics.ts'

// The device front door: Aedes over TLS (and loopback-only plain TCP for development). Policy lives in
// small async functions (policies.ts); `callbackOnce` adapts each to Aedes' callback hooks so every hook
// calls back exactly once and never throws. docs/broker.md describes the behaviour.

export type { BrokerDeps, BrokerOptions, IngestPort } from './options.ts'

// Aedes keeps connected clients in `clients` but its typings omit it.
function clientsOf(broker: Aedes): Record<string, Client> {
  return (broker as unknown as { clients: Record<string, Client> }).clients
}

export async function createBroker(deps: BrokerDeps, options: BrokerOptions) {
  const log = deps.log.child({ component: 'broker' })
  const now = deps.now ?? Date.now
  const auth = createAuthenticator(deps.lookupDevice)
  const outcomes = createOutcomes({ metrics: deps.metrics, log, audit: deps.audit })
  const blockMs = options.blockMs ?? 60_000
  const failures = createKeyedLimiter(options.authFailuresPerMin / 60, options.authFailuresPerMin, now)
  const blockedUntil = new Map<string, number>()
  const sessions = new WeakMap<Client, Session>()
  const ipOf = (c: Client) => ipOfSocket(c.conn as net.Socket)
  const failed = (ip: string) => {
    // Brute-force slowdown: an address out of failure tokens is refused at accept for blockMs.
    if (!failures.take(ip)) blockedUntil.set(ip, now() + blockMs)
  }
  const blocked = (ip: string) => {
    const until = blockedUntil.get(ip)
    if (until === undefined) return false
    if (until > now()) {
      outcomes.refused({ reason: 'blocked-address', ip, audit: false })
      return true
    }
    blockedUntil.delete(ip)
    return false
  }

  let status: ReturnType<typeof trackDeviceStatus> | undefined
  const policies = createPolicies({
    deps,
    options,
    now,
    outcomes,
    auth,
    sessions,
    ipOf,
    clients: () => clientsOf(broker),
    failed,
    publish: (packet) => broker.publish(packet, () => {}),
    touched: (id, battery) => {
      const c = clientsOf(broker)[id]
      const s = c && sessions.get(c)
      if (s) status?.touched(id, s.patientId, battery)
    },
  })

  const broker = new Aedes({
    id: 'vitalwire',
    // Keepalive bounds are enforced in preConnect: Aedes' own check answers with return code 6, which
    // MQTT 3.1.1 does not define ([MQTT-3.2.2-6] says close without CONNACK instead).
    keepaliveLimit: 0,
    maxClientsIdLength: 64,
    connectTimeout: options.connectTimeoutMs ?? 10_000,
    preConnect: callbackOnce(policies.preConnect, log) as any,
    authenticate: callbackOnce(policies.authenticate, log) as any,
    authorizePublish: callbackOnce(policies.authorizePublish, log) as any,
    authorizeSubscribe: callbackOnce(policies.authorizeSubscribe, log) as any,
    // Readings are for ingest only; never relay one device's data to another subscriber.
    authorizeForward: (_client, packet) => (isInternal(packet.topic) ? null : packet),
  })
  // Readings are consumed by ingest in authorizePublish and never forwarded (above), so a device's
  // reading skips the broker's routing altogether: a packet copy, persistence and topic matching per
  // reading (3-4 % of the server's CPU at 50,000 readings/s) that could only ever end in a refusal.
  const route = broker.publish.bind(broker)
  broker.publish = ((packet: PublishPacket, client: unknown, done?: (err?: Error) => void) => {
    if (client && typeof client === 'object' && isInternal(packet.topic)) {
      if (done) process.nextTick(done)
      return
    }
    return (route as any)(packet, client, done)
  }) as typeof broker.publish
  await broker.listen()
  status = trackDeviceStatus(
    broker,
    deps,
    (c) => sessions.get(c)?.patientId,
    () => clientsOf(broker),
    now,
  )
  broker.on('clientError', (client, err) =>
    log.debug({ deviceId: client?.id, err: err.message }, 'client error'),
  )
  broker.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'connection error'))

  const handle = (socket: net.Socket) => {
    socket.setNoDelay(true)
    const ip = ipOfSocket(socket) // read now: a destroyed socket no longer knows its peer
    const client = broker.handle(socket)
    guardPacketSize(client, socket, options.maxPacketBytes, (declared) => {
      outcomes.refused({
        reason: 'packet-size',
        deviceId: client.id ?? undefined,
        ip,
        detail: `packet of ${declared} bytes exceeds ${options.maxPacketBytes}`,
      })
      failed(ip)
    })
  }
  let listeners: ReturnType<typeof createListeners>
  try {
    listeners = createListeners(options, handle, blocked, outcomes, log)
  } catch (e) {
    // A certificate and key that do not match, or a file that is no certificate: the broker's timers
    // already run, and left running they kept a failed start alive for ever (a supervisor saw it up).
    await new Promise<void>((r) => broker.close(() => r()))
    await status?.close()
    throw e
  }

  function disconnect(deviceId: string, reason: string) {
    auth.forget(deviceId)
    const c = clientsOf(broker)[deviceId]
    if (c) {
      log.warn({ deviceId, reason }, 'disconnecting device')
      c.close()
    }
  }

  return {
    async start(): Promise<{ port: number; plainPort?: number }> {
      const ports = await listeners.start()
      log.info(ports, 'broker listening')
      return ports
    },
    /** Close the device's connection at once (revocation, monitoring switched off). */
    disconnect,
    /** Forget cached credentials for a device whose registry record changed. */
    forget: (deviceId: string) => auth.forget(deviceId),
    connectedIds: () => Object.keys(clientsOf(broker)),
    get connected() {
      return broker.connectedClients
    },
    async close() {
      // Stop accepting first, then close every client, then wait for the listeners to finish.
      const stopped = listeners.stop()
      await new Promise<void>((r) => broker.close(() => r()))
      await stopped
      await status?.close()
    },
  }
}

export type Broker = Awaited<ReturnType<typeof createBroker>>
