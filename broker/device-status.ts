import type { Aedes, Client } from 'aedes'
import type { BrokerDeps } from './options.ts'

// Device status for the dashboard and the registry: connected/disconnected, last seen, battery when a
// reading reports it. Published as `device-status` events and written to the devices table.
// Last-seen times of busy devices are batched (one write per device per flush) to keep ingest fast.

const FLUSH_MS = 5_000

export function trackDeviceStatus(
  broker: Aedes,
  deps: BrokerDeps,
  patientOf: (c: Client) => string | undefined,
  clients: () => Record<string, Client>,
  now: () => number,
) {
  const lastSeen = new Map<string, number>()
  const record = (id: string, s: Parameters<BrokerDeps['recordStatus']>[1]) =>
    deps
      .recordStatus(id, s)
      .catch((err) => deps.log.error({ err, deviceId: id }, 'device status write failed'))
  const flush = setInterval(() => {
    for (const [id, t] of lastSeen) void record(id, { lastSeenMs: t })
    lastSeen.clear()
  }, FLUSH_MS)
  flush.unref()

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
    void record(client.id, { connected: true, lastSeenMs: t })
    emit(client.id, patientId, true, t)
    deps.log.info({ deviceId: client.id }, 'device connected')
  })
  broker.on('clientDisconnect', (client) => {
    deps.metrics.mqttConnections.set(broker.connectedClients)
    const patientId = patientOf(client)
    // After a takeover the new connection owns the id; the old one's disconnect changes nothing.
    const current = clients()[client.id]
    if (!patientId || (current && current !== client)) return
    const t = now()
    lastSeen.delete(client.id)
    void record(client.id, { connected: false, lastSeenMs: t })
    emit(client.id, patientId, false, t)
    deps.log.info({ deviceId: client.id }, 'device disconnected')
  })

  return {
    /** A message from the device was accepted; `battery` when the reading reported one. */
    touched(deviceId: string, patientId: string, battery?: number) {
      const t = now()
      lastSeen.set(deviceId, t)
      if (battery === undefined) return
      void record(deviceId, { battery, lastSeenMs: t })
      emit(deviceId, patientId, true, t, battery)
    },
    async close() {
      clearInterval(flush)
      await Promise.all([...lastSeen].map(([id, t]) => record(id, { lastSeenMs: t })))
      lastSeen.clear()
    },
  }
}
