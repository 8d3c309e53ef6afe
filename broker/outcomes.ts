import type { Logger } from '../shared/logger.ts'
import type { Metrics } from '../shared/metrics.ts'
import type { AuditEntry } from '../storage/ports.ts'

// Every refusal is visible three ways: the metric vitalwire_mqtt_refused_total{reason}, an audit entry
// (device id, remote address, reason; never a secret or a payload) and a warn log line.

export type RefusalReason =
  | 'auth'
  | 'blocked-address'
  | 'keepalive'
  | 'publish-topic'
  | 'subscribe-topic'
  | 'packet-size'
  | 'rate'
  | 'max-connections'

const ACTION: Record<RefusalReason, string> = {
  auth: 'mqtt.connect',
  'blocked-address': 'mqtt.connect',
  keepalive: 'mqtt.connect',
  'publish-topic': 'mqtt.publish',
  'subscribe-topic': 'mqtt.subscribe',
  'packet-size': 'mqtt.packet-size',
  rate: 'mqtt.rate',
  'max-connections': 'mqtt.connect',
}

export interface Refused {
  reason: RefusalReason
  deviceId?: string
  ip: string
  /** Topic or filter for topic refusals; the device id otherwise. */
  target?: string
  detail?: string
  /** false for floods (address blocked, server full): count and log, but keep the audit log readable. */
  audit?: boolean
}

export function createOutcomes(deps: { metrics: Metrics; log: Logger; audit(entry: AuditEntry): void }) {
  return {
    refused(r: Refused) {
      deps.metrics.mqttRefused.inc({ reason: r.reason })
      if (r.audit !== false) {
        deps.audit({
          actor: r.deviceId ? `device:${r.deviceId}` : `address:${r.ip}`,
          action: ACTION[r.reason],
          outcome: 'denied',
          target: r.target ?? r.deviceId,
          ip: r.ip,
          detail: { reason: r.reason, ...(r.detail ? { detail: r.detail } : {}) },
        })
      }
      // Floods are logged at debug so an attacker cannot drown the log either.
      deps.log[r.audit === false ? 'debug' : 'warn'](
        { deviceId: r.deviceId, ip: r.ip, reason: r.reason, target: r.target, detail: r.detail },
        'mqtt refused',
      )
    },
    takeover(deviceId: string, ip: string) {
      // [MQTT-3.1.4-2] the server disconnects the existing client with the same id.
      deps.audit({
        actor: `device:${deviceId}`,
        action: 'mqtt.takeover',
        outcome: 'ok',
        target: deviceId,
        ip,
      })
      deps.log.warn({ deviceId, ip }, 'device session taken over by a new connection')
    },
  }
}

export type Outcomes = ReturnType<typeof createOutcomes>
