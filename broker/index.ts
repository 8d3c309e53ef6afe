import net from 'node:net'
import tls from 'node:tls'
import { Aedes, type Client, type PublishPacket } from 'aedes'
import type { EventBus } from '../shared/events.ts'
import type { Logger } from '../shared/logger.ts'
import type { Metrics } from '../shared/metrics.ts'
import type { AuditEntry } from '../storage/ports.ts'
import { type AuthOutcome, createAuthenticator, type DeviceRecord } from './authenticate.ts'
import { guardPacketSize } from './packet-size.ts'
import { createKeyedLimiter, createTokenBucket, type TokenBucket } from './rate-limit.ts'
import { errorsTopic, isInternal, mayPublish, maySubscribe } from './topics.ts'

// The device front door: Aedes over TLS (and loopback-only plain TCP for development). Policy lives in
// small async functions; `callbackOnce` adapts each to Aedes' callback hooks so every hook calls back
// exactly once and never throws.

export interface IngestPort {
  accept(
    deviceId: string,
    device: { patientId: string; type: string },
    payload: Uint8Array,
  ): Promise<{ rejected: { readingId?: string; code: string; message: string }[]; battery?: number }>
}

export interface BrokerDeps {
  lookupDevice(id: string): Promise<DeviceRecord | undefined>
  ingest: IngestPort
  events: EventBus
  log: Logger
  metrics: Metrics
  audit(entry: AuditEntry): void
  recordStatus(
    deviceId: string,
    s: { connected?: boolean; lastSeenMs?: number; battery?: number },
  ): Promise<void>
  now?: () => number
}

export interface BrokerOptions {
  host: string
  port: number
  plainHost: string
  plainPort?: number
  tls: { cert: string; key: string; ca: string }
  maxPacketBytes: number
  ratePerS: number
  burst: number
  maxConnections: number
  keepaliveMaxS: number
  authFailuresPerMin: number
}

type Session = { patientId: string; type: string; bucket: TokenBucket; errorBucket: TokenBucket; ip: string }

function callbackOnce<A extends unknown[]>(fn: (...a: A) => Promise<unknown>, log: Logger) {
  return (...args: [...A, (err: Error | null, ...r: unknown[]) => void]) => {
    const cb = args.pop() as (err: Error | null, ...r: unknown[]) => void
    fn(...(args as unknown as A)).then(
      (r) => cb(null, ...(r === undefined ? [] : [r])),
      (e) => {
        if (!(e as any).expected) log.error({ err: e }, 'broker hook failed')
        cb(e as Error)
      },
    )
  }
}

// Aedes keeps connected clients in `clients` but its typings omit it.
function clientsOf(broker: Aedes): Record<string, Client> {
  return (broker as unknown as { clients: Record<string, Client> }).clients
}

function denied(message: string, returnCode?: number): Error {
  return Object.assign(new Error(message), { expected: true, returnCode })
}

export async function createBroker(deps: BrokerDeps, options: BrokerOptions) {
  const log = deps.log.child({ component: 'broker' })
  const now = deps.now ?? Date.now
  const auth = createAuthenticator(deps.lookupDevice)
  const failures = createKeyedLimiter(options.authFailuresPerMin / 60, options.authFailuresPerMin, now)
  const blockedUntil = new Map<string, number>()
  const sessions = new WeakMap<Client, Session>()
  const ipOf = (c: Client) => ((c.conn as net.Socket).remoteAddress ?? 'unknown').replace(/^::ffff:/, '')

  async function authenticate(client: Client, username: string | undefined, password: Buffer | undefined) {
    const ip = ipOf(client)
    const outcome: AuthOutcome = await auth.authenticate({
      clientId: client.id,
      username,
      password,
      socket: client.conn as tls.TLSSocket,
      nowMs: now(),
    })
    if (!outcome.ok) {
      deps.metrics.mqttRefused.inc({ reason: 'auth' })
      deps.audit({
        actor: `device:${client.id}`,
        action: 'mqtt.connect',
        outcome: 'denied',
        target: client.id,
        ip,
        detail: { reason: outcome.reason },
      })
      log.warn({ deviceId: client.id, ip, reason: outcome.reason }, 'device connection refused')
      // Brute-force slowdown: an address out of failure tokens is refused at accept for a minute.
      if (!failures.take(ip)) blockedUntil.set(ip, now() + 60_000)
      throw denied(outcome.reason, outcome.code)
    }
    if (clientsOf(broker)[client.id]) {
      // [MQTT-3.1.4-2] the server disconnects the existing client with the same id (takeover).
      deps.audit({
        actor: `device:${client.id}`,
        action: 'mqtt.takeover',
        outcome: 'ok',
        target: client.id,
        ip,
      })
      log.warn({ deviceId: client.id, ip }, 'device session taken over by a new connection')
    }
    const t = now()
    sessions.set(client, {
      patientId: outcome.device.patientId,
      type: outcome.device.type,
      bucket: createTokenBucket(options.ratePerS, options.burst, t),
      errorBucket: createTokenBucket(1, 10, t),
      ip,
    })
    return true
  }

  function refuse(client: Client, action: string, target: string) {
    deps.metrics.mqttRefused.inc({ reason: action })
    deps.audit({ actor: `device:${client.id}`, action, outcome: 'denied', target, ip: ipOf(client) })
    log.warn({ deviceId: client.id, topic: target }, 'device topic refused')
  }

  function reportErrors(
    client: Client,
    s: Session,
    errors: { readingId?: string; code: string; message: string }[],
  ) {
    for (const e of errors) {
      // The errors topic is itself rate limited so a flood of bad input cannot become a flood of replies.
      if (!s.errorBucket.take(now())) break
      const payload = JSON.stringify({ readingId: e.readingId ?? null, code: e.code, message: e.message })
      broker.publish(
        {
          cmd: 'publish',
          topic: errorsTopic(client.id),
          payload: Buffer.from(payload),
          qos: 1,
          retain: false,
          dup: false,
        },
        () => {},
      )
    }
  }

  async function authorizePublish(client: Client | null, packet: PublishPacket) {
    if (!client) return // the broker's own messages (errors to devices)
    const s = sessions.get(client)
    if (!s || !mayPublish(client.id, packet.topic)) {
      refuse(client, 'mqtt.publish', packet.topic)
      // MQTT 3.1.1 has no negative PUBACK: the connection is closed, as AWS IoT Core does.
      throw denied('publish not authorized')
    }
    packet.retain = false // retained messages from devices are never kept
    const payload = packet.payload as Buffer
    if (payload.length > options.maxPacketBytes) {
      reportErrors(client, s, [
        {
          code: 'VW_ERR_INGEST_PAYLOAD',
          message: `payload of ${payload.length} bytes exceeds ${options.maxPacketBytes}`,
        },
      ])
      return
    }
    if (!s.bucket.take(now())) {
      deps.metrics.readings.inc({ outcome: 'rejected', code: 'VW_ERR_INGEST_RATE' })
      setImmediate(() =>
        reportErrors(client, s, [
          {
            code: 'VW_ERR_INGEST_RATE',
            message: `more than ${options.ratePerS} messages/s; message dropped`,
          },
        ]),
      )
      return
    }
    // Durable acceptance: resolves only after the local commit, and Aedes writes PUBACK after this.
    const result = await deps.ingest.accept(client.id, s, payload)
    lastSeen.set(client.id, now())
    if (result.battery !== undefined) {
      void deps.recordStatus(client.id, { battery: result.battery })
      deps.events.emit('device-status', {
        deviceId: client.id,
        patientId: s.patientId,
        connected: true,
        lastSeen: new Date().toISOString(),
        battery: result.battery,
      })
    }
    if (result.rejected.length) setImmediate(() => reportErrors(client, s, result.rejected))
  }

  async function authorizeSubscribe(client: Client, sub: { topic: string; qos: number }) {
    if (!maySubscribe(client.id, sub.topic)) {
      refuse(client, 'mqtt.subscribe', sub.topic)
      return null // SUBACK 0x80 for this filter [MQTT-3.9.3-2]
    }
    return sub
  }

  const broker = new Aedes({
    id: 'vitalwire',
    keepaliveLimit: options.keepaliveMaxS,
    maxClientsIdLength: 64,
    authenticate: callbackOnce(authenticate, log) as any,
    authorizePublish: callbackOnce(authorizePublish, log) as any,
    authorizeSubscribe: callbackOnce(authorizeSubscribe, log) as any,
    // Readings are for ingest only; never relay one device's data to another subscriber.
    authorizeForward: (_client, packet) => (isInternal(packet.topic) ? null : packet),
  })
  await broker.listen()

  const lastSeen = new Map<string, number>()
  const flushSeen = setInterval(() => {
    for (const [id, t] of lastSeen) void deps.recordStatus(id, { lastSeenMs: t })
    lastSeen.clear()
  }, 5_000)
  flushSeen.unref()

  broker.on('clientReady', (client) => {
    const s = sessions.get(client)
    deps.metrics.mqttConnections.set(broker.connectedClients)
    if (!s) return
    const t = now()
    void deps.recordStatus(client.id, { connected: true, lastSeenMs: t })
    deps.events.emit('device-status', {
      deviceId: client.id,
      patientId: s.patientId,
      connected: true,
      lastSeen: new Date(t).toISOString(),
    })
    log.info({ deviceId: client.id }, 'device connected')
  })
  broker.on('clientDisconnect', (client) => {
    deps.metrics.mqttConnections.set(broker.connectedClients)
    const s = sessions.get(client)
    // After a takeover the new connection owns the id; the old one's disconnect changes nothing.
    if (!s || (clientsOf(broker)[client.id] && clientsOf(broker)[client.id] !== client)) return
    const t = now()
    void deps.recordStatus(client.id, { connected: false, lastSeenMs: t })
    deps.events.emit('device-status', {
      deviceId: client.id,
      patientId: s.patientId,
      connected: false,
      lastSeen: new Date(t).toISOString(),
    })
    log.info({ deviceId: client.id }, 'device disconnected')
  })
  broker.on('clientError', (client, err) =>
    log.debug({ deviceId: client?.id, err: err.message }, 'client error'),
  )
  broker.on('connectionError', (_client, err) => log.debug({ err: err.message }, 'connection error'))

  const handle = (socket: net.Socket) => {
    const ip = (socket.remoteAddress ?? '').replace(/^::ffff:/, '')
    const until = blockedUntil.get(ip)
    if (until !== undefined) {
      if (until > now()) {
        deps.metrics.mqttRefused.inc({ reason: 'blocked-address' })
        socket.destroy()
        return
      }
      blockedUntil.delete(ip)
    }
    socket.setNoDelay(true)
    const client = broker.handle(socket)
    guardPacketSize(client, socket, options.maxPacketBytes)
  }

  const tlsServer = tls.createServer(
    {
      cert: options.tls.cert,
      key: options.tls.key,
      ca: options.tls.ca,
      minVersion: 'TLSv1.2',
      // Ask for a client certificate but let devices that use a secret connect without one; the
      // authenticate hook decides (socket.authorized tells whether the chain and expiry verified).
      requestCert: true,
      rejectUnauthorized: false,
      handshakeTimeout: 10_000,
    },
    handle,
  )
  tlsServer.maxConnections = options.maxConnections
  tlsServer.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'))
  const plainServer = options.plainPort !== undefined ? net.createServer(handle) : undefined

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
      const listen = (server: net.Server, port: number, host: string) =>
        new Promise<number>((resolve, reject) => {
          server.once('error', reject)
          server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port))
        })
      const port = await listen(tlsServer, options.port, options.host)
      const plainPort = plainServer
        ? await listen(plainServer, options.plainPort!, options.plainHost)
        : undefined
      log.info({ port, plainPort }, 'broker listening')
      return { port, plainPort }
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
      clearInterval(flushSeen)
      for (const [id, t] of lastSeen) await deps.recordStatus(id, { lastSeenMs: t })
      // Stop accepting first, then close every client, then wait for the listeners to finish.
      const stopped = [tlsServer, plainServer]
        .filter((s) => s?.listening)
        .map((s) => new Promise<void>((r) => s!.close(() => r())))
      await new Promise<void>((r) => broker.close(() => r()))
      await Promise.all(stopped)
    },
  }
}

export type Broker = Awaited<ReturnType<typeof createBroker>>
