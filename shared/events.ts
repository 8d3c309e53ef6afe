import { EventEmitter } from 'node:events'
import type { Alert } from './alert.ts'
import type { StoredObservation } from './fhir.ts'

// In-process events between components (wired in main.ts). Listeners must not throw; each
// component guards its own handlers.

export interface DeviceStatus {
  deviceId: string
  patientId: string
  connected: boolean
  lastSeen?: string
  battery?: number
  firmware?: string
}

export interface VitalwireEvents {
  /** Observations newly committed (duplicates excluded). */
  observations: [StoredObservation[]]
  alert: [Alert]
  'alert-updated': [Alert]
  'device-status': [DeviceStatus]
  'device-revoked': [string]
  'registry-changed': [{ kind: string; subject: string }]
  /** A session ended (logout) or an API token was revoked here: its WebSockets close at once. */
  'credentials-ended': []
}

export class EventBus extends EventEmitter<VitalwireEvents> {
  constructor() {
    super({ captureRejections: false })
    this.setMaxListeners(100)
  }
}
