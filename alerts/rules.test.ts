import { describe, expect, it } from 'vitest'
import type { StoredObservation } from '../shared/fhir.ts'
import { DEFAULT_RULES } from './default-rules.ts'
import { breachMessage, evaluateThreshold, levelsFor, recovered, type ThresholdLike } from './evaluate.ts'
import { parseRuleSet } from './rules.ts'
import { obs, T0 } from './test-observation.ts'

// The default rule set against CLINICAL.md "Default alert rules", edge by edge, and rule-file errors.

const rule = (id: string) => DEFAULT_RULES.rules.find((r) => r.id === id) as ThresholdLike

function check(id: string, o: StoredObservation, flags = {}) {
  const r = rule(id)
  return evaluateThreshold(r, o, levelsFor(r, flags))?.severity ?? null
}

const v = (type: Parameters<typeof obs>[1], value: number) => obs('p', type, { value }, T0)
const bp = (systolic: number, diastolic: number) => obs('p', 'blood-pressure', { systolic, diastolic }, T0)

describe('default threshold rules (CLINICAL.md)', () => {
  it.each([
    ['spo2-low', v('spo2', 90), null],
    ['spo2-low', v('spo2', 89), 'high'],
    ['spo2-low', v('spo2', 85), 'high'],
    ['spo2-low', v('spo2', 84), 'critical'],
    ['hr-high', v('heart-rate', 130), null],
    ['hr-high', v('heart-rate', 131), 'high'],
    ['hr-low', v('heart-rate', 40), null],
    ['hr-low', v('heart-rate', 39), 'high'],
    ['rr-high', v('respiratory-rate', 24), null],
    ['rr-high', v('respiratory-rate', 25), 'high'],
    ['rr-low', v('respiratory-rate', 9), null],
    ['rr-low', v('respiratory-rate', 8), 'high'],
    ['bp-crisis', bp(180, 120), null],
    ['bp-crisis', bp(181, 80), 'critical'],
    ['bp-crisis', bp(150, 121), 'critical'],
    ['bp-high', bp(159, 99), null],
    ['bp-high', bp(160, 80), 'medium'],
    ['bp-high', bp(130, 100), 'medium'],
    ['bp-low', bp(90, 60), null],
    ['bp-low', bp(89, 60), 'high'],
    ['temp-fever', v('body-temperature', 37.9), null],
    ['temp-fever', v('body-temperature', 38.0), 'medium'],
    ['temp-fever', v('body-temperature', 39.0), 'medium'],
    ['temp-fever', v('body-temperature', 39.1), 'high'],
    ['temp-low', v('body-temperature', 35.1), null],
    ['temp-low', v('body-temperature', 35.0), 'high'],
    ['glucose-low', v('blood-glucose', 70), null],
    ['glucose-low', v('blood-glucose', 69), 'high'],
    ['glucose-low', v('blood-glucose', 54), 'high'],
    ['glucose-low', v('blood-glucose', 53), 'critical'],
    ['glucose-high', v('blood-glucose', 250), null],
    ['glucose-high', v('blood-glucose', 251), 'medium'],
    ['glucose-high', v('blood-glucose', 400), 'medium'],
    ['glucose-high', v('blood-glucose', 401), 'high'],
  ] as const)('%s on %o -> %s', (id, o, severity) => expect(check(id, o)).toBe(severity))

  it('uses 88 % for patients flagged hypercapnic', () => {
    expect(check('spo2-low', v('spo2', 89), { hypercapnic: true })).toBeNull()
    expect(check('spo2-low', v('spo2', 87), { hypercapnic: true })).toBe('high')
  })

  it('treats a glucometer LO as the most severe low level', () => {
    const lo = obs('p', 'blood-glucose', {}, T0)
    lo.outOfRange = 'L'
    expect(check('glucose-low', lo)).toBe('critical')
    expect(check('glucose-high', lo)).toBeNull()
  })

  it.each([
    ['spo2-low', 91, false],
    ['spo2-low', 92, true],
    ['hr-high', 126, false],
    ['hr-high', 125, true],
  ] as const)('hysteresis margin: %s recovered at %s is %s', (id, value, ok) => {
    const r = rule(id)
    const type = r.type
    expect(recovered(r, v(type, value), levelsFor(r, {}))).toBe(ok)
  })
})

describe('rule files', () => {
  it('accepts the defaults as JSON', () => {
    expect(parseRuleSet(JSON.parse(JSON.stringify(DEFAULT_RULES))).rules).toHaveLength(
      DEFAULT_RULES.rules.length,
    )
  })

  it('lists every problem with its path', () => {
    const bad = {
      rules: [
        { id: 'x', kind: 'threshold', type: 'heart-rate', label: 'HR', unit: '/min', levels: [] },
        { id: 'x', kind: 'news2', label: 'NEWS2', windowMinutes: -1 },
        { id: 'y', kind: 'frobnicate' },
      ],
      patientOverrides: { p1: { nope: { enabled: false }, x: { consecutive: 0 } } },
      patientPrograms: { p2: 'missing' },
    }
    let message = ''
    try {
      parseRuleSet(bad, 'rules.json')
    } catch (e: any) {
      expect(e.code).toBe('VW_ERR_RULES_INVALID')
      message = e.message
    }
    expect(message).toContain('rules.json is invalid')
    expect(message).toMatch(/rules\.0\.levels: .*>=1/)
    expect(message).toMatch(/rules\.1\.windowMinutes/)
    expect(message).toMatch(/rules\.2\.kind/)
  })

  it('names unknown rule ids, bad override values and unknown programs', () => {
    const base = JSON.parse(JSON.stringify(DEFAULT_RULES))
    const bad = {
      ...base,
      patientOverrides: { p1: { nope: { enabled: false }, 'bp-high': { consecutive: 0 } } },
      patientPrograms: { p2: 'missing' },
    }
    expect(() => parseRuleSet(bad)).toThrow(/patientOverrides\.p1\.nope: unknown rule id "nope"/)
    expect(() => parseRuleSet(bad)).toThrow(/patientOverrides\.p1\.bp-high\.consecutive/)
    expect(() => parseRuleSet(bad)).toThrow(/patientPrograms\.p2: unknown program "missing"/)
  })
})

describe('threshold messages', () => {
  it.each([
    [
      'bp-low',
      bp(84, 55),
      'systolic blood pressure 84 mm[Hg] (84/55), 6 below the limit < 90 at 2026-11-27T08:00:00.000Z',
    ],
    [
      'bp-crisis',
      bp(150, 124),
      'diastolic blood pressure 124 mm[Hg] (150/124), 4 above the limit > 120 at 2026-11-27T08:00:00.000Z. AHA: re-measure after 1-2 minutes; act on symptoms of organ damage at once',
    ],
    [
      'temp-fever',
      v('body-temperature', 38.4),
      'Temperature 38.4 Cel, 0.4 above the limit >= 38 at 2026-11-27T08:00:00.000Z',
    ],
  ] as const)('%s says what, how far out and when', (id, o, text) => {
    const r = rule(id)
    const b = evaluateThreshold(r, o, levelsFor(r, {}))!
    expect(breachMessage(r, b, o)).toBe(text)
  })
})
