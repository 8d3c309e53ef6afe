import { describe, expect, it } from 'vitest'
import { observationResource } from '../shared/fhir.ts'
import { decode } from './decode.ts'
import { toObservations } from './to-observation.ts'

const NOW = Date.parse('2026-11-27T10:00:00Z')
const limits = { nowMs: NOW, maxFutureMs: 300_000, maxAgeMs: 30 * 86_400_000 }

function observe(reading: unknown) {
  const [item] = decode(Buffer.from(JSON.stringify(reading)), limits)
  if (!item.ok) throw new Error(item.message)
  return toObservations(item.reading, { deviceId: 'dev-1', patientId: 'p1', receivedMs: NOW })
}

describe('toObservations', () => {
  it('maps a heart rate to a vital-signs Observation', () => {
    const [o] = observe({
      id: 'r1',
      type: 'heart-rate',
      value: 72,
      unit: 'bpm',
      ts: '2026-11-27T08:15:00+02:00',
    })
    expect(o.key).toBe('dev-1:r1')
    expect(observationResource(o)).toEqual({
      resourceType: 'Observation',
      id: o.id,
      meta: { profile: ['http://hl7.org/fhir/StructureDefinition/heartrate'] },
      identifier: [{ system: 'urn:vitalwire:reading', value: 'dev-1:r1' }],
      status: 'final',
      category: [
        {
          coding: [
            {
              system: 'http://terminology.hl7.org/CodeSystem/observation-category',
              code: 'vital-signs',
              display: 'Vital Signs',
            },
          ],
          text: 'Vital Signs',
        },
      ],
      code: {
        coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }],
        text: 'Heart rate',
      },
      subject: { reference: 'Patient/p1' },
      device: { reference: 'Device/dev-1' },
      effectiveDateTime: '2026-11-27T08:15:00+02:00',
      issued: '2026-11-27T10:00:00.000Z',
      valueQuantity: { value: 72, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
    })
    // Effective time first (base 36), then a hash of the key: ordered, deterministic, FHIR-legal.
    expect(o.id).toMatch(/^[0-9a-z]{9}[a-f0-9]{23}$/)
    expect(Number.parseInt(o.id.slice(0, 9), 36)).toBe(Date.parse('2026-11-27T08:15:00+02:00'))
  })

  it('maps blood pressure to a panel with components and a separate pulse Observation', () => {
    const [bp, pulse] = observe({
      id: 'b1',
      type: 'blood-pressure',
      systolic: 128,
      diastolic: 82,
      pulse: 64,
      unit: 'mmHg',
    })
    expect(observationResource(bp).code.coding[0].code).toBe('85354-9')
    expect(observationResource(bp).valueQuantity).toBeUndefined()
    expect(
      observationResource(bp).component?.map((c) => [
        c.code.coding[0].code,
        c.valueQuantity.value,
        c.valueQuantity.code,
      ]),
    ).toEqual([
      ['8480-6', 128, 'mm[Hg]'],
      ['8462-4', 82, 'mm[Hg]'],
    ])
    expect(pulse.key).toBe('dev-1:b1:pulse')
    expect(observationResource(pulse).code.coding[0].code).toBe('8867-4')
    expect(observationResource(pulse).valueQuantity?.value).toBe(64)
  })

  it('codes SpO2 with both LOINC codes and glucose as laboratory', () => {
    const [s] = observe({ id: 's', type: 'spo2', value: 96 })
    expect(observationResource(s).code.coding.map((c) => c.code)).toEqual(['2708-6', '59408-5'])
    const [g] = observe({ id: 'g', type: 'blood-glucose', value: 'LO', unit: 'mg/dL' })
    expect(observationResource(g).category[0].coding[0].code).toBe('laboratory')
    expect(observationResource(g).valueQuantity).toBeUndefined()
    expect(observationResource(g).interpretation?.[0].coding[0].code).toBe('L')
  })

  it('derives the same id for the same key (replays map to the same resource)', () => {
    expect(observe({ id: 'r1', type: 'heart-rate', value: 72 })[0].id).toBe(
      observe({ id: 'r1', type: 'heart-rate', value: 80 })[0].id,
    )
  })
})
