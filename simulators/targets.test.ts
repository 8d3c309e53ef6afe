import { describe, expect, it } from 'vitest'
import { parseFaults } from './faults.ts'
import { planFleet } from './fleet.ts'
import { parseDuration } from './scenarios.ts'
import { candidates, parseScenarioList, target } from './targets.ts'

describe('option parsing', () => {
  it.each([
    ['90s', 90_000],
    ['10m', 600_000],
    ['2h', 7_200_000],
    ['1d', 86_400_000],
    ['5', 5000],
    ['soon', undefined],
  ])('parseDuration(%s) = %s', (text, ms) => expect(parseDuration(text)).toBe(ms))

  it('parses scenario lists with offsets and refuses unknown names', () => {
    expect(parseScenarioList('desaturation@2m,fever')).toEqual([
      { kind: 'desaturation', atMs: 120_000 },
      { kind: 'fever', atMs: 0 },
    ])
    expect(() => parseScenarioList('zombie')).toThrow(/unknown scenario/)
  })

  it.each([
    ['duplicates', { duplicates: 0.05 }],
    ['duplicates=0.2,malformed=0.1', { duplicates: 0.2, malformed: 0.1 }],
    ['offline=3,skew,reconnect-storm=10', { offlineS: 3, skew: true, reconnectStormS: 10 }],
  ])('parseFaults(%s)', (text, want) => expect(parseFaults(text)).toEqual(want))

  it('refuses unknown faults and bad numbers', () => {
    expect(() => parseFaults('gremlins')).toThrow(/unknown fault/)
    expect(() => parseFaults('duplicates=lots')).toThrow(/not a number/)
    expect(() => parseFaults('duplicates=2')).toThrow(/from 0 to 1/)
    // 0 seconds used to pass and do nothing.
    expect(() => parseFaults('offline=0')).toThrow(/at least some seconds/)
    expect(() => parseFaults('reconnect-storm=0')).toThrow(/at least some seconds/)
  })
})

describe('scenario targets', () => {
  const plan = planFleet({ devices: 40, profile: 'mixed' })
  it.each([
    ['desaturation', 'copd'],
    ['hypertensive-crisis', 'hypertension'],
    ['weight-gain', 'heart-failure'],
    ['hypoglycemia', 'diabetes'],
  ] as const)('%s goes to a %s patient first', (kind, profile) => {
    const s = target(plan, kind, 0, 0)
    expect(plan.patients.find((p) => p.id === s.patientId)?.profile).toBe(profile)
  })

  it('gives a fever only to a patient with a thermometer, even when others have no episode yet', () => {
    const fleet = planFleet({ devices: 15, profile: 'mixed' })
    const thermometerOwners = new Set(
      fleet.devices.filter((d) => d.kind === 'thermometer').map((d) => d.patientId),
    )
    for (let nth = 0; nth < 6; nth++)
      expect(thermometerOwners.has(target(fleet, 'fever', nth, 0).patientId)).toBe(true)
  })

  it('flags heart-failure patients, so that the weight-gain rules apply to them', () => {
    const hf = plan.patients.filter((p) => p.profile === 'heart-failure')
    expect(hf.length).toBeGreaterThan(0)
    for (const p of hf) expect(p.flags).toEqual({ heartFailure: true })
  })

  it('spreads repeated injections over the patients not in an episode yet, the best suited first', () => {
    // As inject() does: each scenario joins its patient's list before the next is targeted.
    const fleet = planFleet({ devices: 20, profile: 'mixed', prefix: 'demo' })
    const got = [0, 1, 2, 3].map((nth) => {
      const s = target(fleet, 'hypertensive-crisis', nth, 0)
      fleet.patients.find((p) => p.id === s.patientId)!.scenarios.push(s)
      return s.patientId
    })
    // It went ht-0002, hf-0004, ht-0002, hf-0004: the second hypertension patient never got one.
    expect(new Set(got).size).toBe(4)
    const profiles = got.map((id) => fleet.patients.find((p) => p.id === id)!.profile)
    const hypertensive = fleet.patients.filter((p) => p.profile === 'hypertension').length
    expect(profiles.slice(0, hypertensive)).toEqual(Array(hypertensive).fill('hypertension'))
  })

  it('gives a weight gain only to a patient the weight-gain rule applies to (heart failure)', () => {
    const fleet = planFleet({ devices: 12, profile: 'healthy' })
    expect(candidates(fleet, 'weight-gain')).toEqual([])
  })

  it('gives device scenarios a device of that patient', () => {
    const s = target(plan, 'device-silent', 0, 0)
    expect(plan.devices.find((d) => d.id === s.deviceId)?.patientId).toBe(s.patientId)
  })
})
