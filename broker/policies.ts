import type { TLSSocket } from 'node:tls'
import type { Client, ConnectPacket, PublishPacket, Subscription } from 'aedes'
import type { AuthOutcome, createAuthenticator } from './authenticate.ts'
import { denied } from './callback-once.ts'
import type { BrokerDeps, BrokerOptions } from './options.ts'
import type { Outcomes } from './outcomes.ts'
import { createTokenBucket, type TokenBucket } from './rate-limit.ts'
import { errorsTopic, mayPublish, maySubscribe } from './topics.ts'

// The broker's policy as async functions: preConnect, authenticate, authorizePublish,
// authorizeSubscribe. index.ts adapts each once with callbackOnce.

export interface Session {
  patientId: string
  type: string
  /** The device's own (shared by all its connections, one after another). */
  bucket: TokenBucket
  /** Messages over the rate are dead-lettered while this lasts; past it the device is disconnected. */
  overflow: TokenBucket
  errorBucket: TokenBucket
  ip: string
  rateAudited: boolean
  refusedFilters: number
}

/** A device that keeps probing other topics is cut off instead of filling the audit log. */
const MAX_REFUSED_FILTERS = 10

export type DeviceError = { readingId?: string; code: string; message: string }

export interface PolicyContext {
  deps: BrokerDeps
  options: BrokerOptions
  now: () => number
  outcomes: Outcomes
  auth: ReturnType<typeof createAuthenticator>
  sessions: WeakMap<Client, Session>
  ipOf(client: Client): string
  clients(): Record<string, Client>
  /** An authentication failure from this address (brute-force slowdown). */
  failed(ip: string): void
  publish(packet: PublishPacket): void
  touched(deviceId: string, battery?: number): void
}

export function createPolicies(ctx: PolicyContext) {
  const { deps, options, now, outcomes } = ctx
  // A device's rate limits outlive its connections: with a fresh bucket per session, reconnecting (or
  // taking its own session over) gave a device another full burst each time. Bounded by the registry:
  // only authenticated devices have an entry.
  const limits = new Map<string, Pick<Session, 'bucket' | 'overflow'>>()
  function limitsOf(deviceId: string) {
    let l = limits.get(deviceId)
    if (!l) {
      const t = now()
      l = {
        bucket: createTokenBucket(options.ratePerS, options.burst, t),
        overflow: createTokenBucket(options.ratePerS, options.burst, t),
      }
      limits.set(deviceId, l)
    }
    return l
  }

  async function preConnect(client: Client, packet: ConnectPacket) {
    const k = packet.keepalive ?? 0
    if (!Number.isInteger(k) || k < 1 || k > options.keepaliveMaxS) {
      // MQTT 3.1.1 has no return code for this: [MQTT-3.2.2-6] close without CONNACK.
      outcomes.refused({
        reason: 'keepalive',
        deviceId: packet.clientId,
        ip: ctx.ipOf(client),
        detail: `keepalive ${k} s outside 1-${options.keepaliveMaxS} s`,
      })
      throw denied('keepalive out of bounds')
    }
    return true
  }

  async function authenticate(client: Client, username: string | undefined, password: Buffer | undefined) {
    const ip = ctx.ipOf(client)
    const outcome: AuthOutcome = await ctx.auth.authenticate({
      clientId: client.id,
      username,
      password,
      socket: client.conn as TLSSocket,
      nowMs: now(),
    })
    if (!outcome.ok) {
      outcomes.refused({ reason: 'auth', deviceId: client.id, ip, detail: outcome.reason })
      ctx.failed(ip)
      // [MQTT-3.2.2-5] a non-zero CONNACK return code, then the server closes the connection.
      throw denied(outcome.reason, outcome.code)
    }
    if (ctx.clients()[client.id]) outcomes.takeover(client.id, ip)
    ctx.sessions.set(client, {
      patientId: outcome.device.patientId,
      type: outcome.device.type,
      ...limitsOf(client.id),
      // Replies on the errors topic: per connection, so a device that reconnects hears about its next
      // messages at once (its message rate, above, is what bounds the work).
      errorBucket: createTokenBucket(1, 10, now()),
      ip,
      rateAudited: false,
      refusedFilters: 0,
    })
    return true
  }

  function reportErrors(client: Client, s: Session, errors: DeviceError[]) {
    for (const e of errors) {
      // The errors topic is itself rate limited so a flood of bad input cannot become a flood of replies.
      if (!s.errorBucket.take(now())) break
      const payload = JSON.stringify({ readingId: e.readingId ?? null, code: e.code, message: e.message })
      ctx.publish({
        cmd: 'publish',
        topic: errorsTopic(client.id),
        payload: Buffer.from(payload),
        qos: 1,
        retain: false,
        dup: false,
      })
    }
  }

  async function authorizePublish(client: Client | null, packet: PublishPacket) {
    if (!client) return // the broker's own messages (errors to devices)
    const s = ctx.sessions.get(client)
    if (!s || !mayPublish(client.id, packet.topic)) {
      outcomes.refused({
        reason: 'publish-topic',
        deviceId: client.id,
        ip: ctx.ipOf(client),
        target: packet.topic,
      })
      // MQTT 3.1.1 has no negative PUBACK: the connection is closed, as AWS IoT Core does.
      throw denied('publish not authorized')
    }
    packet.retain = false // retained messages from devices are never kept ([MQTT-3.3.1-5] does not apply)
    const payload = packet.payload as Buffer
    if (!s.bucket.take(now())) {
      // One audit entry per connection: a flood must not become a flood of audit rows.
      outcomes.refused({
        reason: 'rate',
        deviceId: client.id,
        ip: s.ip,
        target: packet.topic,
        audit: !s.rateAudited,
      })
      s.rateAudited = true
      if (!s.overflow.take(now())) {
        // Far over its rate: close the connection without acknowledging. The device keeps the message
        // and resends it after reconnecting, so nothing is lost and the flood cannot fill the disk.
        throw denied('message rate far above the limit')
      }
      const message = `more than ${options.ratePerS} messages/s; message kept aside (dead-lettered), not processed`
      // Committed before the PUBACK like any reading: a message we acknowledge is never lost.
      await deps.ingest.reject(client.id, payload, { code: 'VW_ERR_INGEST_RATE', message })
      setImmediate(() => reportErrors(client, s, [{ code: 'VW_ERR_INGEST_RATE', message }]))
      return
    }
    // Durable acceptance: resolves only after the local commit, and Aedes writes PUBACK after this.
    const result = await deps.ingest.accept(client.id, s, payload)
    ctx.touched(client.id, result.battery)
    if (result.rejected.length) setImmediate(() => reportErrors(client, s, result.rejected))
  }

  async function authorizeSubscribe(client: Client, sub: Subscription) {
    if (!maySubscribe(client.id, sub.topic)) {
      const s = ctx.sessions.get(client)
      if (s && ++s.refusedFilters > MAX_REFUSED_FILTERS) throw denied('too many refused subscriptions')
      outcomes.refused({
        reason: 'subscribe-topic',
        deviceId: client.id,
        ip: ctx.ipOf(client),
        target: sub.topic,
      })
      return null // SUBACK 0x80 for this filter [MQTT-3.9.3-2]
    }
    return sub
  }

  return { preConnect, authenticate, authorizePublish, authorizeSubscribe }
}
