import { describe, expect, it } from 'vitest'
import { formatReading } from './format.ts'
import type { Prefs } from './prefs.ts'
import { displayUnit, MGDL_PER_MMOLL, toDisplay } from './units.ts'

const mg: Prefs = { glucose: 'mg/dL', temperature: 'Cel', sound: false }
const mmol: Prefs = { glucose: 'mmol/L', temperature: '[degF]', sound: false }

describe('display units (CLINICAL.md factors)', () => {
  it.each([
    ['blood-glucose', 100, mg, 100],
    ['blood-glucose', 100, mmol, 5.6],
    ['blood-glucose', 70, mmol, 3.9],
    ['blood-glucose', 54, mmol, 3.0],
    ['body-temperature', 37, mg, 37],
    ['body-temperature', 37, mmol, 98.6],
    ['body-temperature', 38, mmol, 100.4],
    ['heart-rate', 72.4, mmol, 72],
  ])('%s %d shown as %d', (type, value, prefs, shown) => {
    expect(toDisplay(type, value, prefs)).toBe(shown)
  })

  it('uses 18.016 mg/dL per mmol/L (molar mass 180.16 g/mol), not 18', () => {
    expect(MGDL_PER_MMOLL).toBe(18.016)
    // 90.9 / 18 = 5.05 would round to 5.1; 90.9 / 18.016 = 5.046 rounds to 5.0.
    expect(toDisplay('blood-glucose', 90.9, mmol)).toBe(5)
    expect(toDisplay('blood-glucose', 180.16, mmol)).toBe(10)
  })

  it('always labels a value with its unit', () => {
    const r = (type: string, values: Record<string, number>, unit: string) => ({
      type,
      effective: '',
      values,
      unit,
    })
    expect(formatReading(r('blood-glucose', { value: 100 }, 'mg/dL'), mg)).toBe('100 mg/dL')
    expect(formatReading(r('blood-glucose', { value: 100 }, 'mg/dL'), mmol)).toBe('5.6 mmol/L')
    expect(formatReading(r('body-temperature', { value: 37 }, 'Cel'), mg)).toBe('37.0 °C')
    expect(formatReading(r('body-temperature', { value: 37 }, 'Cel'), mmol)).toBe('98.6 °F')
    expect(formatReading(r('blood-pressure', { systolic: 120, diastolic: 80 }, 'mm[Hg]'), mg)).toBe(
      '120/80 mmHg',
    )
    expect(formatReading(r('spo2', { value: 97 }, '%'), mg)).toBe('97 %')
    expect(
      formatReading({ type: 'blood-glucose', effective: '', values: {}, interpretation: 'L' }, mmol),
    ).toBe('LO (below meter range) mmol/L')
    expect(displayUnit('body-weight', mmol)).toBe('kg')
  })
})
