// The FHIR R4 shapes Vitalwire produces (a subset of the spec: what the vital-signs profile needs).
import type { VitalType } from './catalog.ts'

export interface CodeableConcept {
  coding: { system: string; code: string; display?: string }[]
  text?: string
}

export interface Quantity {
  value: number
  unit: string
  system: 'http://unitsofmeasure.org'
  code: string
}

export interface Observation {
  resourceType: 'Observation'
  id: string
  meta: { profile: string[]; tag?: { system: string; code: string; display?: string }[] }
  identifier: { system: 'urn:vitalwire:reading'; value: string }[]
  status: 'final'
  category: CodeableConcept[]
  code: CodeableConcept
  subject: { reference: string }
  device: { reference: string }
  effectiveDateTime: string
  issued: string
  valueQuantity?: Quantity
  dataAbsentReason?: CodeableConcept
  interpretation?: CodeableConcept[]
  component?: { code: CodeableConcept; valueQuantity: Quantity }[]
}

/** One accepted reading as stored: the FHIR resource plus the columns queries and rules need. */
export interface StoredObservation {
  /** Observation.id, derived from `key`. */
  id: string
  /** Idempotency key `{deviceId}:{readingId}` (`:pulse` for the heart rate from a BP cuff). */
  key: string
  patientId: string
  deviceId: string
  type: VitalType
  effectiveMs: number
  receivedMs: number
  /** Numeric values in canonical units: `value`, or `systolic`/`diastolic`. Empty for LO/HI glucose. */
  values: Record<string, number>
  resource: Observation
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome'
  issue: { severity: 'fatal' | 'error' | 'warning' | 'information'; code: string; diagnostics: string }[]
}

export function operationOutcome(code: string, diagnostics: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] }
}
