import { hash } from 'node:crypto'
import { BP_COMPONENTS, OBSERVATION_CATEGORY, UCUM, type VitalType, vital } from '../shared/catalog.ts'
import type { Observation, Quantity, StoredObservation } from '../shared/fhir.ts'
import type { Normalized } from './normalize.ts'

// Pure: a normalized reading -> FHIR R4 Observation(s) conforming to the vital-signs profile
// (status, category, LOINC code, subject, effectiveDateTime, valueQuantity with UCUM system and code).

export const READING_SYSTEM = 'urn:vitalwire:reading'
export const FLAG_SYSTEM = 'urn:vitalwire:flag'
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation'
const DATA_ABSENT = 'http://terminology.hl7.org/CodeSystem/data-absent-reason'

const FLAG_DISPLAY: Record<string, string> = {
  'time-from-receipt': 'device sent no measurement time; time of receipt used',
  'low-confidence': 'SpO2 below 70 %: pulse oximeter accuracy is not claimed in this range',
}

/** Observation.id from the idempotency key: deterministic, so a replay maps to the same resource. */
export function observationId(key: string): string {
  // crypto.hash: one-shot, without a Hash object per reading (hot path).
  return hash('sha256', key, 'hex').slice(0, 32)
}

function quantity(type: VitalType, value: number): Quantity {
  const def = vital(type)
  return { value, unit: def.display, system: UCUM, code: def.ucum }
}

export interface Subject {
  deviceId: string
  patientId: string
  receivedMs: number
}

function build(type: VitalType, key: string, n: Normalized, s: Subject): Observation {
  const def = vital(type)
  const obs: Observation = {
    resourceType: 'Observation',
    id: observationId(key),
    meta: { profile: [def.profile] },
    identifier: [{ system: READING_SYSTEM, value: key }],
    status: 'final',
    category: [
      {
        coding: [
          { system: OBSERVATION_CATEGORY, code: def.category, display: categoryDisplay(def.category) },
        ],
        text: categoryDisplay(def.category),
      },
    ],
    code: { coding: def.codings.map((c) => ({ ...c })), text: def.codings[0].display },
    subject: { reference: `Patient/${s.patientId}` },
    device: { reference: `Device/${s.deviceId}` },
    effectiveDateTime: n.effective,
    issued: isoOf(s.receivedMs),
  }
  if (n.flags.length > 0) {
    obs.meta.tag = n.flags.map((code) => ({ system: FLAG_SYSTEM, code, display: FLAG_DISPLAY[code] ?? code }))
  }
  return obs
}

// Every reading of a message (and most of a busy millisecond) shares one receive time.
let lastIssuedMs = Number.NaN
let lastIssued = ''
function isoOf(ms: number): string {
  if (ms !== lastIssuedMs) {
    lastIssuedMs = ms
    lastIssued = new Date(ms).toISOString()
  }
  return lastIssued
}

function categoryDisplay(c: string): string {
  return c === 'vital-signs' ? 'Vital Signs' : c === 'laboratory' ? 'Laboratory' : 'Activity'
}

function stored(
  type: VitalType,
  key: string,
  n: Normalized,
  s: Subject,
  values: Record<string, number>,
  resource: Observation,
): StoredObservation {
  return {
    id: resource.id,
    key,
    patientId: s.patientId,
    deviceId: s.deviceId,
    type,
    effectiveMs: n.effectiveMs,
    receivedMs: s.receivedMs,
    values,
    resource,
  }
}

/** One reading -> one Observation, plus a heart-rate Observation for a BP cuff's pulse. */
export function toObservations(n: Normalized, s: Subject): StoredObservation[] {
  const key = `${s.deviceId}:${n.readingId}`
  const obs = build(n.type, key, n, s)
  if (n.type === 'blood-pressure') {
    // vital-signs BP profile: no value at panel level, one component per pressure.
    obs.component = (['systolic', 'diastolic'] as const).map((part) => ({
      code: { coding: [{ ...BP_COMPONENTS[part].coding }], text: BP_COMPONENTS[part].coding.display },
      valueQuantity: quantity('blood-pressure', n.values[part]),
    }))
  } else if (n.outOfRange) {
    // A meter's LO/HI is a real measurement whose value lies beyond the meter's range, and the range
    // differs by meter model, so there is no number to put in valueQuantity (a comparator such as
    // `< 20 mg/dL` would need the model's limit). Hence no value, and:
    // - interpretation `<` / `>` (v3 ObservationInterpretation "Off scale low/high": below/above the
    //   range in which the result is interpretable), which is exactly what LO/HI mean, preceded by
    //   `L` / `H` (Low/High) because that is also true and is what rules and screens key on;
    // - dataAbsentReason `unknown` ("expected to exist but not known"): the value exists but is
    //   unknown. `negative-infinity`/`positive-infinity` are for floating-point errors, `error` for a
    //   failed process, so neither fits. obs-6: dataAbsentReason only when there is no value[x].
    const low = n.outOfRange === 'L'
    obs.interpretation = [
      {
        coding: [{ system: INTERPRETATION, code: n.outOfRange, display: low ? 'Low' : 'High' }],
        text: low ? 'Low' : 'High',
      },
      {
        coding: [
          {
            system: INTERPRETATION,
            code: low ? '<' : '>',
            display: low ? 'Off scale low' : 'Off scale high',
          },
        ],
        text: low
          ? 'meter reported LO (below its measuring range)'
          : 'meter reported HI (above its measuring range)',
      },
    ]
    obs.dataAbsentReason = {
      coding: [{ system: DATA_ABSENT, code: 'unknown', display: 'Unknown' }],
      text: `meter reported ${low ? 'LO' : 'HI'}: outside its measuring range`,
    }
  } else {
    obs.valueQuantity = quantity(n.type, n.values.value)
  }
  const out = [stored(n.type, key, n, s, n.values, obs)]
  if (n.pulse !== undefined) {
    const pulseKey = `${key}:pulse`
    const hr = build('heart-rate', pulseKey, n, s)
    hr.valueQuantity = quantity('heart-rate', n.pulse)
    out.push(stored('heart-rate', pulseKey, n, s, { value: n.pulse }, hr))
  }
  return out
}
