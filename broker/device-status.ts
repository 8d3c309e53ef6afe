import type { Aedes, Client } from 'aedes'
import type { BrokerDeps, DeviceStatusUpdate } from './options.ts'

// Device status for the dashboard and the registry: connected/disconnected, last seen, battery when a
// reading reports a level different from the last one. Events go out at once; registry writes are batched (connect, disconnect and
// battery within STATUS_FLUSH_MS, last-seen of busy devices every LAST_SEEN_FLUSH_MS), because each
// SQLite commit is an fsync and a reconnect storm of thousands of devices must not be thousands of them.

const STATUS_FLUSH_MS = 200
const LAST_SEEN_FLUSH_MS = 5_000

export function trackDeviceStatus(
  broker: Aedes,
  deps: BrokerDeps,
  patientOf: (c: Client) => string | undefined,
  clients: () => Record<string, Client>,
  now: () => number,
) {
  let pending = new Map<string, DeviceStatusUpdate>()
  // The battery level each connected device last reported: a wearable repeats it in every reading, and
  // only a change is news (an event to every dashboard, a registry write).
  const battery = new Map<string, number>()
  let soon: NodeJS.Timeout | undefined
  const flush = async () => {
    clearTimeout(soon)
    soon = undefined
    const batch = [...pending.values()]
    pending = new Map()
    await deps.recordStatus(batch).catch((err) => deps.log.error({ err }, 'device status write failed'))
  }
  const record = (u: DeviceStatusUpdate, urgent: boolean) => {
    const prev = pending.get(u.id)
    const lastSeenMs = Math.max(prev?.lastSeenMs ?? 0, u.lastSeenMs ?? 0) || undefined
    pending.set(u.id, { ...prev, ...u, lastSeenMs })
    if (urgent && !soon) soon = setTimeout(flush, STATUS_FLUSH_MS)
  }
  const periodic = setInterval(flush, LAST_SEEN_FLUSH_MS)
  periodic.unref()

  const emit = (deviceId: string, patientId: string, connected: boolean, t: number, battery?: number) =>
    deps.events.emit('device-status', {
      deviceId,
      patientId,
      connected,
      lastSeen: new Date(t).toISOString(),
      ...(battery !== undefined ? { battery } : {}),
    })

  broker.on('clientReady', (client) => {
    deps.metrics.mqttConnections.set(broker.connectedClients)
    const patientId = patientOf(client)
    if (!patientId) return
    const t = now()
    record({ id: client.id, connected: true, lastSeenMs: t }, true)
    emit(client.id, patientId, true, t)
    // debug: per-device events in a reconnect storm of thousands; refusals and takeovers stay at warn.
    deps.log.debug({ deviceId: client.id }, 'device connected')
  })
  broker.on('clientDisconnect', (client) => {
    deps.metrics.mqttConnections.set(broker.connectedClients)
    const patientId = patientOf(client)
    // After a takeover the new connection owns the id; the old one's disconnect changes nothing.
    const current = clients()[client.id]
    if (!patientId || (current && current !== client)) return
    battery.delete(client.id)
    const t = now()
    record({ id: client.id, connected: false, lastSeenMs: t }, true)
    emit(client.id, patientId, false, t)
    deps.log.debug({ deviceId: client.id }, 'device disconnected')
  })

  return {
    /** A message from the device was accepted; `battery` when the reading reported one. */
    touched(deviceId: string, patientId: string, level?: number) {
      const t = now()
      const changed = level !== undefined && battery.get(deviceId) !== level
      if (changed) battery.set(deviceId, level)
      record({ id: deviceId, lastSeenMs: t, ...(changed ? { battery: level } : {}) }, changed)
      if (changed) emit(deviceId, patientId, true, t, level)
    },
    async close() {
      clearInterval(periodic)
      await flush()
    },
  }
}
