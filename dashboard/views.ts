import type { Alert } from '../shared/alert.ts'
import type { StoredObservation } from '../shared/fhir.ts'
import type { Device, Patient } from '../storage/ports.ts'

// JSON shapes of the REST API (not FHIR): small, stable, and free of internal fields.

export function readingView(o: StoredObservation) {
  const q = o.resource.valueQuantity
  return {
    id: o.id,
    type: o.type,
    effective: o.resource.effectiveDateTime,
    effectiveMs: o.effectiveMs,
    deviceId: o.deviceId,
    values: o.values,
    unit: q?.code ?? o.resource.component?.[0]?.valueQuantity.code,
    interpretation: o.resource.interpretation?.[0]?.coding[0]?.code,
    flags: o.resource.meta.tag?.map((t) => t.code) ?? [],
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

export function alertView(a: Alert, snoozedUntilMs?: number) {
  return snoozedUntilMs ? { ...a, snoozedUntil: new Date(snoozedUntilMs).toISOString() } : a
}
