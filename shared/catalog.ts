// The one clinical catalog: vital types, LOINC codes, UCUM units, accepted aliases and plausible bounds.
// Ingest, alerts, FHIR and simulators all read from here. Source: ../shared/reference/CLINICAL.md
// (HL7 FHIR R4 vital-signs profile, LOINC, UCUM). Plausible bounds are product defaults, not standards.

export const VITAL_TYPES = [
  'heart-rate',
  'respiratory-rate',
  'spo2',
  'body-temperature',
  'body-weight',
  'body-height',
  'bmi',
  'blood-glucose',
  'blood-pressure',
  'steps',
] as const
export type VitalType = (typeof VITAL_TYPES)[number]

export const LOINC = 'http://loinc.org'
export const UCUM = 'http://unitsofmeasure.org'
export const OBSERVATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category'

export interface Coding {
  system: string
  code: string
  display: string
}

/** A conversion from a unit a device may send to the type's canonical UCUM unit. */
export interface UnitAlias {
  /** Multiply, then add: canonical = value * factor + offset (offset applied after factor). */
  factor: number
  offset?: number
  /** Applied before the factor, for affine conversions such as degF: (F - 32) * 5/9. */
  preOffset?: number
}

export interface Bounds {
  min: number
  max: number
}

export interface VitalDefinition {
  type: VitalType
  codings: Coding[]
  category: 'vital-signs' | 'laboratory' | 'activity'
  /** Canonical UCUM code and its usual display. */
  ucum: string
  display: string
  /** Accepted unit spellings (UCUM code or alias) -> conversion to the canonical unit. */
  units: Record<string, UnitAlias>
  /** Number of decimals kept after conversion (0 = integer). */
  decimals: number
  plausible: Bounds
  /** FHIR vital-signs profile URL for this type. */
  profile: string
}

const VS = 'http://hl7.org/fhir/StructureDefinition/'
const same: UnitAlias = { factor: 1 }
const perMinute = { '/min': same, '1/min': same }

const definitions: VitalDefinition[] = [
  {
    type: 'heart-rate',
    codings: [{ system: LOINC, code: '8867-4', display: 'Heart rate' }],
    category: 'vital-signs',
    ucum: '/min',
    display: 'beats/minute',
    units: { ...perMinute, bpm: same, 'beats/min': same, '{beats}/min': same, 'beats/minute': same },
    decimals: 0,
    plausible: { min: 20, max: 300 },
    profile: `${VS}heartrate`,
  },
  {
    type: 'respiratory-rate',
    codings: [{ system: LOINC, code: '9279-1', display: 'Respiratory rate' }],
    category: 'vital-signs',
    ucum: '/min',
    display: 'breaths/minute',
    units: { ...perMinute, bpm: same, 'breaths/min': same, '{breaths}/min': same, 'breaths/minute': same },
    decimals: 0,
    plausible: { min: 2, max: 80 },
    profile: `${VS}resprate`,
  },
  {
    type: 'spo2',
    // US Core wants both codings: arterial saturation and the pulse-oximetry specific code.
    codings: [
      { system: LOINC, code: '2708-6', display: 'Oxygen saturation in Arterial blood' },
      {
        system: LOINC,
        code: '59408-5',
        display: 'Oxygen saturation in Arterial blood by Pulse oximetry',
      },
    ],
    category: 'vital-signs',
    ucum: '%',
    display: '%',
    units: { '%': same, percent: same },
    decimals: 0,
    plausible: { min: 50, max: 100 },
    profile: `${VS}oxygensat`,
  },
  {
    type: 'body-temperature',
    codings: [{ system: LOINC, code: '8310-5', display: 'Body temperature' }],
    category: 'vital-signs',
    ucum: 'Cel',
    display: 'C',
    units: {
      Cel: same,
      C: same,
      '°C': same,
      degC: same,
      '[degF]': { preOffset: -32, factor: 5 / 9 },
      degF: { preOffset: -32, factor: 5 / 9 },
      F: { preOffset: -32, factor: 5 / 9 },
      '°F': { preOffset: -32, factor: 5 / 9 },
    },
    decimals: 1,
    plausible: { min: 25, max: 45 },
    profile: `${VS}bodytemp`,
  },
  {
    type: 'body-weight',
    codings: [{ system: LOINC, code: '29463-7', display: 'Body weight' }],
    category: 'vital-signs',
    ucum: 'kg',
    display: 'kg',
    // UCUM: 1 [lb_av] = 0.45359237 kg exactly.
    units: {
      kg: same,
      '[lb_av]': { factor: 0.45359237 },
      lb: { factor: 0.45359237 },
      lbs: { factor: 0.45359237 },
      g: { factor: 0.001 },
    },
    decimals: 2,
    plausible: { min: 0.5, max: 500 },
    profile: `${VS}bodyweight`,
  },
  {
    type: 'body-height',
    codings: [{ system: LOINC, code: '8302-2', display: 'Body height' }],
    category: 'vital-signs',
    ucum: 'cm',
    display: 'cm',
    // UCUM: 1 [in_i] = 2.54 cm exactly.
    units: { cm: same, '[in_i]': { factor: 2.54 }, in: { factor: 2.54 }, m: { factor: 100 } },
    decimals: 1,
    plausible: { min: 30, max: 250 },
    profile: `${VS}bodyheight`,
  },
  {
    type: 'bmi',
    codings: [{ system: LOINC, code: '39156-5', display: 'Body mass index (BMI) [Ratio]' }],
    category: 'vital-signs',
    ucum: 'kg/m2',
    display: 'kg/m2',
    units: { 'kg/m2': same },
    decimals: 1,
    plausible: { min: 8, max: 100 },
    profile: `${VS}bmi`,
  },
  {
    type: 'blood-glucose',
    // Not a vital sign: category laboratory, as US Core does.
    codings: [
      {
        system: LOINC,
        code: '41653-7',
        display: 'Glucose [Mass/volume] in Capillary blood by Glucometer',
      },
    ],
    category: 'laboratory',
    ucum: 'mg/dL',
    display: 'mg/dL',
    // Glucose molar mass 180.16 g/mol: 1 mmol/L = 18.016 mg/dL (tables often round to 18).
    units: { 'mg/dL': same, 'mg/dl': same, 'mmol/L': { factor: 18.016 }, 'mmol/l': { factor: 18.016 } },
    decimals: 0,
    plausible: { min: 10, max: 900 },
    profile: 'http://hl7.org/fhir/StructureDefinition/Observation',
  },
  {
    type: 'blood-pressure',
    codings: [{ system: LOINC, code: '85354-9', display: 'Blood pressure panel with all children optional' }],
    category: 'vital-signs',
    ucum: 'mm[Hg]',
    display: 'mmHg',
    units: { 'mm[Hg]': same, mmHg: same, kPa: { factor: 7.50062 } },
    decimals: 0,
    // Systolic bounds; diastolic bounds are in BP_COMPONENTS.
    plausible: { min: 40, max: 300 },
    profile: `${VS}bp`,
  },
  {
    type: 'steps',
    codings: [{ system: LOINC, code: '55423-8', display: 'Number of steps in unspecified time Pedometer' }],
    category: 'activity',
    ucum: '{steps}',
    display: 'steps',
    // '/d': a daily total (CLINICAL.md: 41950-7, HL7 Physical Activity IG), stored with the flag DAILY_TOTAL.
    units: { '{steps}': same, steps: same, count: same, '/d': same },
    decimals: 0,
    plausible: { min: 0, max: 100_000 },
    profile: 'http://hl7.org/fhir/StructureDefinition/Observation',
  },
]

/** Steps sent per day (unit `/d`): their own LOINC code and unit, and this flag on the stored reading. */
export const DAILY_TOTAL = 'daily-total'
export const DAILY_STEPS = {
  coding: { system: LOINC, code: '41950-7', display: 'Number of steps in 24 hour Measured' },
  ucum: '/d',
  display: 'steps/day',
}

export const BP_COMPONENTS = {
  systolic: {
    coding: { system: LOINC, code: '8480-6', display: 'Systolic blood pressure' },
    plausible: { min: 40, max: 300 },
  },
  diastolic: {
    coding: { system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' },
    plausible: { min: 20, max: 200 },
  },
} as const

export const CATALOG: ReadonlyMap<VitalType, VitalDefinition> = new Map(definitions.map((d) => [d.type, d]))

export function vital(type: VitalType): VitalDefinition {
  const def = CATALOG.get(type)
  if (!def) throw new Error(`unknown vital type ${type}`)
  return def
}

export function isVitalType(value: unknown): value is VitalType {
  return typeof value === 'string' && CATALOG.has(value as VitalType)
}

/** The vital type whose primary LOINC code is `code`, if any. */
export function typeForLoinc(code: string): VitalType | undefined {
  for (const def of definitions) if (def.codings.some((c) => c.code === code)) return def.type
  return undefined
}

export function roundTo(value: number, decimals: number): number {
  const f = 10 ** decimals
  // Round half away from zero on the decimal representation, not on binary noise (36.85 -> 36.9).
  return Math.sign(value) * (Math.round(Math.abs(value) * f + 1e-9) / f)
}

/**
 * Types whose unit is ambiguous without a label (mg/dL vs mmol/L, Cel vs degF, kg vs lb, cm vs in):
 * a reading of these types without `unit` is rejected instead of guessed.
 */
export const UNIT_REQUIRED: ReadonlySet<VitalType> = new Set([
  'body-temperature',
  'body-weight',
  'body-height',
  'blood-glucose',
])

/** A stored reading that is a day's total of steps (sent in `/d`). */
export const isDailySteps = (o: { type: VitalType; flags: readonly string[] }) =>
  o.type === 'steps' && o.flags.includes(DAILY_TOTAL)

/** The UCUM unit a stored reading is in: its type's, or `/d` for a day's total of steps. */
export function ucumOf(o: { type: VitalType; flags: readonly string[] }): string {
  return isDailySteps(o) ? DAILY_STEPS.ucum : vital(o.type).ucum
}
