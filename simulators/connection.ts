import type { SocketConstructorOpts } from 'node:net'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import type { Stats } from './stats.ts'

// One simulated device's MQTT-over-TLS connection with its own credentials (client id = device id, as
// the broker requires). It subscribes to its errors topic so rejections count in the simulator's stats,
// and times every QoS 1 publish until its PUBACK.

export interface ConnectionOptions {
  url: string
  ca: string
  deviceId: string
  secret: string
  stats: Stats
  /** Reconnect after a lost connection (reconnect storms); 0 = stay down. */
  reconnectPeriodMs?: number
}

const TOPIC_PREFIX = 'rpm/v1/devices/'

/**
 * mqtt.js hands its options on to tls.connect, so a socket option such as `noDelay` reaches the socket,
 * although mqtt.js's own type does not list it.
 */
export type SocketClientOptions = IClientOptions & Pick<SocketConstructorOpts, 'noDelay'>

export interface DeviceConnection {
  readonly deviceId: string
  readonly inflight: number
  readonly connected: boolean
  /** Publish at QoS 1; `done` runs on PUBACK, or with the error if the publish failed. */
  publish(payload: string, done?: (err?: Error) => void): void
  /** Drop the TCP connection without a DISCONNECT, as a network loss does. */
  drop(): void
  end(): Promise<void>
}

export async function connectDevice(o: ConnectionOptions): Promise<DeviceConnection> {
  const topic = `${TOPIC_PREFIX}${o.deviceId}/readings`
  let client: MqttClient
  try {
    const options: SocketClientOptions = {
      clientId: o.deviceId,
      username: o.deviceId,
      password: o.secret,
      ca: o.ca,
      protocolVersion: 4,
      clean: true,
      keepalive: 60,
      // Nagle off: with Nagle, a publish written while an earlier one waits for its TCP ACK is held
      // back until that ACK, and a device with several QoS 1 messages in flight waits on it again and
      // again (the load mode's throughput at 50 devices x 8 in flight rose 13-22 %; docs/benchmarks.md).
      noDelay: true,
      connectTimeout: 15_000,
      reconnectPeriod: o.reconnectPeriodMs ?? 0,
      // mqtt.js resends unacknowledged QoS 1 messages after a reconnect, with DUP set [MQTT-4.4.0-1].
      resubscribe: true,
    }
    client = await mqtt.connectAsync(o.url, options)
  } catch (e) {
    o.stats.counters.connectFailures++
    throw e
  }
  o.stats.counters.connects++
  // A connection that was up and went down; mqtt.js also emits 'close' for every reconnection attempt
  // that failed, which counted 126 disconnects for 6 devices when the server went away.
  let up = true
  client.on('connect', () => {
    up = true
    o.stats.counters.connects++
  })
  client.on('close', () => {
    if (up) o.stats.counters.disconnects++
    up = false
  })
  client.on('error', () => {})
  client.on('message', (_t, payload) => {
    try {
      const e = JSON.parse(String(payload)) as { code?: string }
      o.stats.rejected(e.code ?? 'unknown')
    } catch {
      o.stats.rejected('unparseable-error')
    }
  })
  await client.subscribeAsync(`${TOPIC_PREFIX}${o.deviceId}/errors`, { qos: 1 })
  // Publishes waiting for their PUBACK. A forced end (the server gone, mqtt.js reconnecting) drops them
  // without calling back; end() fails them instead, so the caller keeps them to send again and no
  // reading just disappears from the counts.
  const pending = new Set<(err?: Error) => void>()
  return {
    deviceId: o.deviceId,
    get inflight() {
      return pending.size
    },
    get connected() {
      return client.connected
    },
    publish(payload, done) {
      const started = performance.now()
      o.stats.counters.sent++
      const settle = (err?: Error) => {
        if (!pending.delete(settle)) return
        if (err) {
          o.stats.counters.publishErrors++
          o.stats.lastError = err.message
          return done?.(err)
        }
        o.stats.counters.acked++
        o.stats.latency.record(performance.now() - started)
        done?.()
      }
      pending.add(settle)
      client.publish(topic, payload, { qos: 1 }, settle)
    },
    drop() {
      client.stream?.destroy()
    },
    async end() {
      // A graceful end waits for the broker; with the server gone (mqtt.js reconnecting) it never came,
      // and the run hung without its summary. Two seconds, then the connection is dropped.
      let timer: NodeJS.Timeout | undefined
      const forced = new Promise<void>((resolve) => {
        timer = setTimeout(() => {
          client.end(true)
          resolve()
        }, 2000)
      })
      await Promise.race([client.endAsync(false).catch(() => client.end(true)), forced])
      clearTimeout(timer)
      for (const settle of [...pending]) settle(new Error('the connection ended before its PUBACK'))
    },
  }
}
