import type { EventBus } from '../shared/events.ts'
import type { Logger } from '../shared/logger.ts'
import type { Metrics } from '../shared/metrics.ts'
import type { AuditEntry } from '../storage/ports.ts'
import type { DeviceRecord } from './authenticate.ts'

// What the broker needs from the rest of Vitalwire (ports) and its options (docs/broker.md lists the
// environment variables that set them).

export interface IngestPort {
  accept(
    deviceId: string,
    device: { patientId: string; type: string },
    payload: Uint8Array,
  ): Promise<{ rejected: { readingId?: string; code: string; message: string }[]; battery?: number }>
  /** Durably dead-letter a whole message (resolves after the commit). */
  reject(
    deviceId: string,
    payload: Uint8Array,
    rejection: { code: 'VW_ERR_INGEST_RATE'; message: string },
  ): Promise<void>
}

export interface DeviceStatusUpdate {
  id: string
  connected?: boolean
  lastSeenMs?: number
  battery?: number
}

export interface BrokerDeps {
  lookupDevice(id: string): Promise<DeviceRecord | undefined>
  ingest: IngestPort
  events: EventBus
  log: Logger
  metrics: Metrics
  audit(entry: AuditEntry): void
  /** Write a batch of status changes (soft state: batched, so a reconnect storm costs one commit). */
  recordStatus(batch: DeviceStatusUpdate[]): Promise<void>
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
  /** How long an address stays blocked after using up its authentication failures. */
  blockMs?: number
  /** A connection that has not sent CONNECT by then is closed. */
  connectTimeoutMs?: number
}
