import type { ValidateFunction } from 'ajv'
import { beforeAll, describe, expect, it } from 'vitest'
import { CATALOG, type VitalType } from '../shared/catalog.ts'
import { type Observation, observationResource } from '../shared/fhir.ts'
import { decode } from './decode.ts'
import { fhirObservationValidator } from './fhir-schema.test-support.ts'
import { mappingFor, shippedMappings } from './mappings/index.ts'
import { toObservations } from './to-observation.ts'

// Every Observation ingest can produce, for every type and every accepted unit spelling, checked against
// the official R4 JSON schema and the vital-signs profile rules of ../shared/reference/CLINICAL.md.
// The expectations below are written from CLINICAL.md, not read from shared/catalog.ts, so a wrong
// catalog entry fails here.

const NOW = Date.parse('2026-11-27T10:00:00Z')
const limits = { nowMs: NOW, maxFutureMs: 300_000, maxAgeMs: 30 * 86_400_000 }
const VS = 'http://hl7.org/fhir/StructureDefinition/'
const CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category'
const F = (f: number) => (v: number) => (v - 32) * (5 / 9) * f
const x = (f: number) => (v: number) => v * f

interface Expected {
  loinc: string[]
  category: 'vital-signs' | 'laboratory' | 'activity'
  ucum: string
  profile: string
  decimals: number
  sample: number
  units: Record<string, (v: number) => number>
}

const CLINICAL: Record<Exclude<VitalType, 'blood-pressure'>, Expected> = {
  'heart-rate': {
    ...{ loinc: ['8867-4'], category: 'vital-signs', ucum: '/min', profile: `${VS}heartrate`, decimals: 0 },
    sample: 72.4,
    units: {
      '/min': x(1),
      bpm: x(1),
      'beats/min': x(1),
      '{beats}/min': x(1),
      '1/min': x(1),
      'beats/minute': x(1),
    },
  },
  'respiratory-rate': {
    ...{ loinc: ['9279-1'], category: 'vital-signs', ucum: '/min', profile: `${VS}resprate`, decimals: 0 },
    sample: 16,
    units: {
      '/min': x(1),
      bpm: x(1),
      'breaths/min': x(1),
      '{breaths}/min': x(1),
      '1/min': x(1),
      'breaths/minute': x(1),
    },
  },
  spo2: {
    ...{
      loinc: ['2708-6', '59408-5'],
      category: 'vital-signs',
      ucum: '%',
      profile: `${VS}oxygensat`,
      decimals: 0,
    },
    sample: 97,
    units: { '%': x(1), percent: x(1) },
  },
  'body-temperature': {
    ...{ loinc: ['8310-5'], category: 'vital-signs', ucum: 'Cel', profile: `${VS}bodytemp`, decimals: 1 },
    sample: 37.24,
    units: { Cel: x(1), C: x(1), '°C': x(1), degC: x(1), '[degF]': F(1), degF: F(1), F: F(1), '°F': F(1) },
  },
  'body-weight': {
    ...{ loinc: ['29463-7'], category: 'vital-signs', ucum: 'kg', profile: `${VS}bodyweight`, decimals: 2 },
    sample: 81.234,
    units: { kg: x(1), '[lb_av]': x(0.45359237), lb: x(0.45359237), lbs: x(0.45359237), g: x(0.001) },
  },
  'body-height': {
    ...{ loinc: ['8302-2'], category: 'vital-signs', ucum: 'cm', profile: `${VS}bodyheight`, decimals: 1 },
    sample: 1.72,
    units: { cm: x(1), '[in_i]': x(2.54), in: x(2.54), m: x(100) },
  },
  bmi: {
    ...{ loinc: ['39156-5'], category: 'vital-signs', ucum: 'kg/m2', profile: `${VS}bmi`, decimals: 1 },
    sample: 24.46,
    units: { 'kg/m2': x(1) },
  },
  'blood-glucose': {
    ...{
      loinc: ['41653-7'],
      category: 'laboratory',
      ucum: 'mg/dL',
      profile: `${VS}Observation`,
      decimals: 0,
    },
    sample: 5.8,
    units: { 'mg/dL': x(1), 'mg/dl': x(1), 'mmol/L': x(18.016), 'mmol/l': x(18.016) },
  },
  steps: {
    ...{
      loinc: ['55423-8'],
      category: 'activity',
      ucum: '{steps}',
      profile: `${VS}Observation`,
      decimals: 0,
    },
    sample: 4200,
    // '/d' is a daily total: same number, its own code and unit (checked below).
    units: { '{steps}': x(1), steps: x(1), count: x(1), '/d': x(1) },
  },
}

/** Sample values that land inside the plausible range whatever the unit. */
function sampleFor(type: keyof typeof CLINICAL, unit: string): number {
  const s: Record<string, number> = { '[degF]': 99.1, degF: 99.1, F: 99.1, '°F': 99.1, lb: 180.5, lbs: 180.5 }
  const extra: Record<string, number> = { '[lb_av]': 180.5, g: 81234, cm: 172.3, '[in_i]': 67.8, in: 67.8 }
  if (type === 'blood-glucose' && unit.startsWith('mg')) return 104
  return s[unit] ?? extra[unit] ?? CLINICAL[type].sample
}

const FHIR_DATETIME =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$/

/** The vital-signs profile rules of CLINICAL.md as a list of violations. */
function profileViolations(o: Observation, type: VitalType): string[] {
  const v: string[] = []
  const want = type === 'blood-pressure' ? undefined : CLINICAL[type]
  const category = want?.category ?? 'vital-signs'
  if (o.status !== 'final') v.push('status must be final')
  if (!o.category?.some((c) => c.coding.some((k) => k.system === CATEGORY && k.code === category)))
    v.push(`category ${category} missing`)
  const loinc = want?.loinc ?? ['85354-9']
  for (const code of loinc)
    if (!o.code.coding.some((c) => c.system === 'http://loinc.org' && c.code === code))
      v.push(`LOINC ${code} missing`)
  if (!/^Patient\/[A-Za-z0-9.-]{1,64}$/.test(o.subject?.reference ?? ''))
    v.push('subject must reference a Patient')
  if (!/^Device\/[A-Za-z0-9.-]{1,64}$/.test(o.device?.reference ?? ''))
    v.push('device must reference a Device')
  if (!FHIR_DATETIME.test(o.effectiveDateTime ?? ''))
    v.push('effectiveDateTime must be a full dateTime with offset')
  if (o.identifier?.[0]?.system !== 'urn:vitalwire:reading') v.push('identifier (idempotency key) missing')
  const profile = want?.profile ?? `${VS}bp`
  if (!o.meta?.profile?.includes(profile)) v.push(`meta.profile ${profile} missing`)
  const quantity = (q: Observation['valueQuantity'], ucum: string, what: string) => {
    if (!q) return v.push(`${what} valueQuantity missing`)
    if (typeof q.value !== 'number' || !Number.isFinite(q.value)) v.push(`${what} value must be a number`)
    if (q.system !== 'http://unitsofmeasure.org' || q.code !== ucum) v.push(`${what} must be UCUM ${ucum}`)
    if (typeof q.unit !== 'string' || q.unit.length === 0) v.push(`${what} unit (display) missing`)
  }
  if (type === 'blood-pressure') {
    if (o.valueQuantity) v.push('BP panel must have no value')
    for (const code of ['8480-6', '8462-4']) {
      const c = o.component?.find((k) =>
        k.code.coding.some((x) => x.system === 'http://loinc.org' && x.code === code),
      )
      if (!c) v.push(`component ${code} missing`)
      else quantity(c.valueQuantity, 'mm[Hg]', code)
    }
  } else if (o.dataAbsentReason) {
    if (o.valueQuantity) v.push('obs-6: dataAbsentReason only without a value')
  } else quantity(o.valueQuantity, want!.ucum, type)
  return v
}

function observe(reading: Record<string, unknown>) {
  const items = decode(Buffer.from(JSON.stringify(reading)), limits)
  const item = items[0]
  if (!item.ok) throw new Error(`${item.code}: ${item.message}`)
  return toObservations(item.reading, { deviceId: 'dev-1.a', patientId: 'p-1', receivedMs: NOW })
}

const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d

describe('FHIR conformance of every Observation ingest produces', () => {
  let schema: ValidateFunction
  beforeAll(() => {
    schema = fhirObservationValidator()
  })
  const conforms = (o: Observation, type: VitalType) => {
    expect(schema(o) ? [] : schema.errors, 'R4 JSON schema').toEqual([])
    expect(profileViolations(o, type), 'vital-signs profile').toEqual([])
  }

  it('the catalog accepts exactly the unit spellings of CLINICAL.md, and nothing else', () => {
    for (const [type, want] of Object.entries(CLINICAL))
      expect(Object.keys(CATALOG.get(type as VitalType)!.units).sort(), type).toEqual(
        Object.keys(want.units).sort(),
      )
    expect(Object.keys(CATALOG.get('blood-pressure')!.units).sort()).toEqual(['kPa', 'mm[Hg]', 'mmHg'].sort())
  })

  // Steps in /d are a daily total, with their own code and unit: the test after these.
  const cases = Object.entries(CLINICAL).flatMap(([type, want]) =>
    Object.keys(want.units)
      .filter((unit) => !(type === 'steps' && unit === '/d'))
      .map((unit, i) => [type as keyof typeof CLINICAL, unit, i] as const),
  )
  it.each(cases)('%s sent in %s', (type, unit, i) => {
    const sample = sampleFor(type, unit)
    const [o] = observe({ id: `r-${i}`, type, value: sample, unit, ts: '2026-11-27T08:15:00+02:00' })
    conforms(observationResource(o), type)
    const want = CLINICAL[type]
    expect(observationResource(o).valueQuantity?.value).toBe(round(want.units[unit](sample), want.decimals))
    expect(observationResource(o).effectiveDateTime).toBe('2026-11-27T08:15:00+02:00')
    expect(observationResource(o).identifier).toEqual([
      { system: 'urn:vitalwire:reading', value: `dev-1.a:r-${i}` },
    ])
  })

  it.each([
    ['mm[Hg]', 128, 82, 128, 82],
    ['mmHg', 128.4, 81.5, 128, 82],
    ['kPa', 16.8, 10.9, 126, 82],
  ])(
    'blood pressure in %s as a panel with two components, and its pulse as a heart rate',
    (unit, s, d, ws, wd) => {
      const [bp, pulse] = observe({
        id: 'b',
        type: 'blood-pressure',
        systolic: s,
        diastolic: d,
        pulse: 64,
        unit,
      })
      conforms(observationResource(bp), 'blood-pressure')
      expect(observationResource(bp).component?.map((c) => c.valueQuantity.value)).toEqual([ws, wd])
      conforms(observationResource(pulse), 'heart-rate')
      expect(observationResource(pulse).identifier[0].value).toBe('dev-1.a:b:pulse')
    },
  )

  it.each([
    ['a 0-1 fraction without unit', { value: 0.97 }],
    ['a fraction in UCUM 1', { value: 0.97, unit: '1' }],
  ])('SpO2 as %s becomes percent with both codings', (_name, v) => {
    const [o] = observe({ id: 's', type: 'spo2', ...v })
    conforms(observationResource(o), 'spo2')
    expect(observationResource(o).valueQuantity?.value).toBe(97)
  })

  it.each([
    ['LO', 'L', '<'],
    ['HI', 'H', '>'],
  ])(
    'glucose meter %s: no value, interpretation %s and off-scale %s, dataAbsentReason',
    (value, hl, scale) => {
      const [o] = observe({ id: 'g', type: 'blood-glucose', value, unit: 'mg/dL' })
      conforms(observationResource(o), 'blood-glucose')
      expect(observationResource(o).valueQuantity).toBeUndefined()
      expect(observationResource(o).interpretation?.map((i) => i.coding[0].code)).toEqual([hl, scale])
      expect(observationResource(o).dataAbsentReason?.coding[0]).toMatchObject({
        system: 'http://terminology.hl7.org/CodeSystem/data-absent-reason',
        code: 'unknown',
      })
    },
  )

  it('flags a reading without device time and an SpO2 below 70 %, still conformant', () => {
    const [o] = observe({ id: 'f', type: 'spo2', value: 65 })
    conforms(observationResource(o), 'spo2')
    expect(
      observationResource(o)
        .meta.tag?.map((t) => t.code)
        .sort(),
    ).toEqual(['low-confidence', 'time-from-receipt'])
  })

  it('renders a daily step total (unit /d) as 41950-7 in /d, and an interval count as 55423-8 in {steps}', () => {
    const [daily] = observe({ id: 'd', type: 'steps', value: 8000, unit: '/d' })
    const [interval] = observe({ id: 'i', type: 'steps', value: 800, unit: 'steps' })
    const d = observationResource(daily)
    const i = observationResource(interval)
    expect([d.code.coding[0].code, d.valueQuantity]).toEqual([
      '41950-7',
      { value: 8000, unit: 'steps/day', system: 'http://unitsofmeasure.org', code: '/d' },
    ])
    expect([i.code.coding[0].code, i.valueQuantity?.code]).toEqual(['55423-8', '{steps}'])
    expect(d.meta.tag?.map((t) => t.code)).toContain('daily-total')
    expect(schema(d) ? [] : schema.errors, 'R4 JSON schema').toEqual([])
  })

  it.each([
    ['epoch milliseconds', NOW - 1500, '2026-11-27T09:59:58.500Z'],
    ['minutes only', '2026-11-27T08:15+02:00', '2026-11-27T08:15:00+02:00'],
    ['nanoseconds', '2026-11-27T03:15:00.123456789-05:00', '2026-11-27T03:15:00.123456789-05:00'],
    ['+14:00', '2026-11-27T20:00:00+14:00', '2026-11-27T20:00:00+14:00'],
  ])('effectiveDateTime from %s is a valid FHIR dateTime', (_name, ts, want) => {
    const [o] = observe({ id: 't', type: 'heart-rate', value: 60, ts })
    conforms(observationResource(o), 'heart-rate')
    expect(observationResource(o).effectiveDateTime).toBe(want)
  })

  it('rejects an offset FHIR cannot represent (+14:30) instead of storing an invalid resource', () => {
    const [item] = decode(
      Buffer.from(
        JSON.stringify({ id: 't', type: 'heart-rate', value: 60, ts: '2026-11-27T20:00:00+14:30' }),
      ),
      limits,
    )
    expect(item).toMatchObject({ ok: false, code: 'VW_ERR_INGEST_TIME' })
  })

  it('every shipped vendor mapping example yields conformant Observations', () => {
    const late = { ...limits, nowMs: Date.parse('2026-11-27T18:00:00Z') }
    for (const [id, m] of shippedMappings()) {
      const doc = structuredClone(m.definition.example) as any
      if (id === 'scale-lb') doc.data.measured_at = late.nowMs / 1000 - 60
      if (id === 'pulse-ox-batch')
        for (const s of doc.samples) s.t = late.nowMs - 60_000 + s.t - doc.samples[0].t
      const items = decode(Buffer.from(JSON.stringify(doc)), late, mappingFor(id))
      expect(items.length, id).toBeGreaterThan(0)
      for (const item of items) {
        if (!item.ok) throw new Error(`${id}: ${item.message}`)
        for (const o of toObservations(item.reading, {
          deviceId: 'd',
          patientId: 'p',
          receivedMs: late.nowMs,
        }))
          conforms(observationResource(o), o.type)
      }
    }
  })
})
