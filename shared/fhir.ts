import { hash } from 'node:crypto'
import {
  BP_COMPONENTS,
  DAILY_STEPS,
  DAILY_TOTAL,
  isDailySteps,
  OBSERVATION_CATEGORY,
  UCUM,
  type VitalType,
  vital,
} from './catalog.ts'

// The FHIR R4 shapes Vitalwire produces (a subset of the spec: what the vital-signs profile needs),
// and the one function that renders a stored reading as its Observation.

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

/**
 * One accepted reading as stored: every fact its FHIR Observation says, and nothing derived. The
 * Observation is a pure function of these fields (`observationResource`), so stores keep ~150 bytes
 * a reading instead of ~1 KB of JSON, and a reading read back renders the very resource ingest made.
 */
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
  /** effectiveDateTime exactly as FHIR carries it: the device's own offset (08:15+02:00 stays so). */
  effective: string
  /** Reading flags (`time-from-receipt`, `low-confidence`), rendered as meta.tag. */
  flags: string[]
  /** A glucose meter's LO/HI: a real measurement beyond the meter's range, so no value. */
  outOfRange?: 'L' | 'H'
  /**
   * Commit order in the local store (its rowid), set by the journal when it commits the reading (and on
   * readings read back for a catch-up): alerts record how far they have evaluated by it
   * (alerts/progress.ts). Not part of the Observation.
   */
  seq?: number
}

export interface OperationOutcome {
  resourceType: 'OperationOutcome'
  issue: { severity: 'fatal' | 'error' | 'warning' | 'information'; code: string; diagnostics: string }[]
}

export function operationOutcome(code: string, diagnostics: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics }] }
}

export const READING_SYSTEM = 'urn:vitalwire:reading'
export const FLAG_SYSTEM = 'urn:vitalwire:flag'
const INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation'
const DATA_ABSENT = 'http://terminology.hl7.org/CodeSystem/data-absent-reason'

const FLAG_DISPLAY: Record<string, string> = {
  'time-from-receipt': 'device sent no measurement time; time of receipt used',
  'low-confidence': 'SpO2 below 70 %: pulse oximeter accuracy is not claimed in this range',
  [DAILY_TOTAL]: 'steps counted over a day',
}

/**
 * Observation.id: deterministic (a replay of a reading maps to the same resource) and ordered by
 * effective time. The first 9 characters are the effective time in base 36, the other 23 a SHA-256
 * of the idempotency key. Time first matters for storage: ids arrive in roughly ascending order, so
 * the id index grows at its end like the time indexes do, instead of every insert landing on a
 * random page of it (which made the durable commit about 5 times slower; see docs/storage.md).
 */
export function observationId(key: string, effectiveMs: number): string {
  // crypto.hash: one-shot, without a Hash object per reading (hot path).
  return Math.max(0, effectiveMs).toString(36).padStart(9, '0') + hash('sha256', key, 'hex').slice(0, 23)
}

/** The effective time an Observation id starts with, if it has that form. */
export function idTimeMs(id: string): number | undefined {
  if (!/^[0-9a-z]{9}[0-9a-f]{23}$/.test(id)) return undefined
  const ms = Number.parseInt(id.slice(0, 9), 36)
  // InfluxDB time is int64 ns, so up to the year 2262; older all-hex ids may parse beyond that.
  return ms <= 9_000_000_000_000 ? ms : undefined
}

function quantity(type: VitalType, value: number): Quantity {
  const def = vital(type)
  return { value, unit: def.display, system: UCUM, code: def.ucum }
}

function categoryDisplay(c: string): string {
  return c === 'vital-signs' ? 'Vital Signs' : c === 'laboratory' ? 'Laboratory' : 'Activity'
}

// Readings of one message (and most of a busy millisecond) share one receive time.
let lastIssuedMs = Number.NaN
let lastIssued = ''
function isoOf(ms: number): string {
  if (ms !== lastIssuedMs) {
    lastIssuedMs = ms
    lastIssued = new Date(ms).toISOString()
  }
  return lastIssued
}

/**
 * The R4 Observation of a stored reading, conforming to the vital-signs profile: status final,
 * category, LOINC code, subject, device, effectiveDateTime, valueQuantity with UCUM system and code
 * (blood pressure as a panel with systolic/diastolic components and no value of its own).
 */
export function observationResource(o: StoredObservation): Observation {
  const def = vital(o.type)
  const obs: Observation = {
    resourceType: 'Observation',
    id: o.id,
    meta: { profile: [def.profile] },
    identifier: [{ system: READING_SYSTEM, value: o.key }],
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
    subject: { reference: `Patient/${o.patientId}` },
    device: { reference: `Device/${o.deviceId}` },
    effectiveDateTime: o.effective,
    issued: isoOf(o.receivedMs),
  }
  if (o.flags.length > 0) {
    obs.meta.tag = o.flags.map((code) => ({ system: FLAG_SYSTEM, code, display: FLAG_DISPLAY[code] ?? code }))
  }
  if (o.type === 'blood-pressure') {
    // vital-signs BP profile: no value at panel level, one component per pressure.
    obs.component = (['systolic', 'diastolic'] as const).map((part) => ({
      code: { coding: [{ ...BP_COMPONENTS[part].coding }], text: BP_COMPONENTS[part].coding.display },
      valueQuantity: quantity('blood-pressure', o.values[part]),
    }))
  } else if (o.outOfRange) {
    // A meter's LO/HI is a real measurement whose value lies beyond the meter's range, and the range
    // differs by meter model, so there is no number to put in valueQuantity (a comparator such as
    // `< 20 mg/dL` would need the model's limit). Hence no value, and:
    // - interpretation `<` / `>` (v3 ObservationInterpretation "Off scale low/high": below/above the
    //   range in which the result is interpretable), which is exactly what LO/HI mean, preceded by
    //   `L` / `H` (Low/High) because that is also true and is what rules and screens key on;
    // - dataAbsentReason `unknown` ("expected to exist but not known"): the value exists but is
    //   unknown. `negative-infinity`/`positive-infinity` are for floating-point errors, `error` for a
    //   failed process, so neither fits. obs-6: dataAbsentReason only when there is no value[x].
    const low = o.outOfRange === 'L'
    obs.interpretation = [
      {
        coding: [{ system: INTERPRETATION, code: o.outOfRange, display: low ? 'Low' : 'High' }],
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
    obs.valueQuantity = quantity(o.type, o.values.value)
  }
  if (isDailySteps(o)) {
    // A day's total: 41950-7 in /d (HL7 Physical Activity IG), not an interval count.
    obs.code = { coding: [{ ...DAILY_STEPS.coding }], text: DAILY_STEPS.coding.display }
    obs.valueQuantity = {
      value: o.values.value,
      unit: DAILY_STEPS.display,
      system: UCUM,
      code: DAILY_STEPS.ucum,
    }
  }
  return obs
}
