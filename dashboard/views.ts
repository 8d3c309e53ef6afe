import type { Alert } from '../shared/alert.ts'
import { ucumOf } from '../shared/catalog.ts'
import type { StoredObservation } from '../shared/fhir.ts'
import type { Device, Patient } from '../storage/ports.ts'

// JSON shapes of the REST API (not FHIR): small, stable, and free of internal fields.

export function readingView(o: StoredObservation) {
  return {
    id: o.id,
    type: o.type,
    effective: o.effective,
    effectiveMs: o.effectiveMs,
    deviceId: o.deviceId,
    values: o.values,
    // A day's total of steps is in /d, as FHIR has it (it said {steps}).
    unit: ucumOf(o),
    interpretation: o.outOfRange,
    flags: o.flags,
  }
}

export function patientView(p: Patient) {
  return { id: p.id, name: p.name, birthDate: p.birthDate, monitoring: p.monitoring, flags: p.flags }
}

export function deviceView(d: Device) {
  return {
    id: d.id,
    patientId: d.patientId,
    type: d.type,
    auth: d.auth,
    connected: d.connected,
    lastSeen: d.lastSeenMs ? new Date(d.lastSeenMs).toISOString() : undefined,
    battery: d.battery,
    firmware: d.firmware,
    revoked: d.revokedMs !== undefined,
    certNotAfter: d.certNotAfterMs ? new Date(d.certNotAfterMs).toISOString() : undefined,
  }
}

/**
 * An alert as the API and the WebSocket send it. `recoveringSince` is the auto-resolve clock's own state:
 * it changes without a change of `updatedAt`, so a change feed could never report it; it stays inside.
 */
export function alertView(a: Alert, snoozedUntilMs?: number) {
  const { recoveringSince: _internal, ...shown } = a
  return snoozedUntilMs ? { ...shown, snoozedUntil: new Date(snoozedUntilMs).toISOString() } : shown
}
