import { afterEach, describe, expect, it } from 'vitest'
import { DEFAULT_RULES } from '../../alerts/default-rules.ts'
import { parseRuleSet } from '../../alerts/rules.ts'
import { type AlertsFixture, alertsFixture, MIN, obs, T0 } from './alerts-fixture.ts'

// Each rule kind end to end through the alerts component (real SQLite, injected clock).

const HOUR = 60 * MIN
let f: AlertsFixture
afterEach(async () => f?.close())

async function withPatient(flags = {}, rules = DEFAULT_RULES) {
  f = await alertsFixture({ rules })
  await f.storage.registry.addPatient({ id: 'p1', name: 'P One', flags })
  return f
}

const bp = (s: number, d: number, at: number) =>
  obs('p1', 'blood-pressure', { systolic: s, diastolic: d }, at)

describe('rule kinds', () => {
  it('consecutive: bp-high needs 2 breaching readings in a row', async () => {
    await withPatient()
    await f.feed(bp(165, 90, T0), bp(150, 90, T0 + HOUR), bp(162, 95, T0 + 2 * HOUR))
    expect(await f.live('p1', 'bp-high')).toBeUndefined()
    await f.feed(bp(170, 101, T0 + 3 * HOUR))
    const a = (await f.live('p1', 'bp-high'))!
    expect(a.severity).toBe('medium')
    expect(a.message).toContain('systolic blood pressure 170 mm[Hg] (170/101), 10 above the limit >= 160')
  })

  /** Heart rate above 110 /min for 10 minutes. */
  const hrSustained = () =>
    parseRuleSet({
      rules: [
        {
          id: 'hr-sustained',
          kind: 'sustained',
          type: 'heart-rate',
          label: 'Heart rate',
          unit: '/min',
          levels: [{ severity: 'medium', any: [{ op: '>', limit: 110 }] }],
          forMinutes: 10,
        },
      ],
    })

  it('sustained: alerts only after the value stayed out of range for the whole span', async () => {
    const rules = hrSustained()
    await withPatient({}, rules)
    const hr = (v: number, at: number) => obs('p1', 'heart-rate', { value: v }, at)
    await f.feed(hr(115, T0), hr(100, T0 + 5 * MIN), hr(118, T0 + 6 * MIN), hr(120, T0 + 12 * MIN))
    expect(await f.live('p1', 'hr-sustained')).toBeUndefined()
    await f.feed(hr(121, T0 + 16 * MIN))
    const a = (await f.live('p1', 'hr-sustained'))!
    expect(a.message).toContain('out of range for 10 min')
  })

  it('per-patient override: a COPD target replaces the SpO2 levels for that patient only', async () => {
    const rules = parseRuleSet({
      ...DEFAULT_RULES,
      patientOverrides: {
        p1: { 'spo2-low': { levels: [{ severity: 'high', any: [{ op: '<', limit: 86 }] }] } },
      },
    })
    await withPatient({}, rules)
    await f.storage.registry.addPatient({ id: 'p2', name: 'P Two' })
    await f.feed(obs('p1', 'spo2', { value: 87 }, T0), obs('p2', 'spo2', { value: 87 }, T0))
    expect(await f.live('p1', 'spo2-low')).toBeUndefined()
    expect((await f.live('p2', 'spo2-low'))?.severity).toBe('high')
  })

  it('hypercapnic flag: SpO2 alerts below 88 % instead of 90 %', async () => {
    await withPatient({ hypercapnic: true })
    await f.feed(obs('p1', 'spo2', { value: 89 }, T0))
    expect(await f.live('p1', 'spo2-low')).toBeUndefined()
    await f.feed(obs('p1', 'spo2', { value: 87 }, T0 + MIN))
    expect((await f.live('p1', 'spo2-low'))?.severity).toBe('high')
  })

  it('programs and overrides switch rules off per program and per patient', async () => {
    const rules = parseRuleSet({
      ...DEFAULT_RULES,
      programs: { hypertension: { rules: ['bp-crisis', 'bp-high'] } },
      patientPrograms: { p1: 'hypertension' },
      patientOverrides: { p2: { 'hr-high': { enabled: false } } },
    })
    await withPatient({}, rules)
    await f.storage.registry.addPatient({ id: 'p2', name: 'P Two' })
    await f.feed(obs('p1', 'heart-rate', { value: 150 }, T0), obs('p2', 'heart-rate', { value: 150 }, T0))
    expect(await f.live('p1', 'hr-high')).toBeUndefined()
    expect(await f.live('p2', 'hr-high')).toBeUndefined()
    expect(await f.live('p2', 'news2')).toBeDefined()
    await f.feed(bp(185, 100, T0 + MIN))
    expect((await f.live('p1', 'bp-crisis'))?.severity).toBe('critical')
  })

  it.each([
    ['24 h', [80, 80.5, 81.4], [0, 12, 23], '1.4 kg in 24 h'],
    ['7 days', [80, 80.6, 81.2, 81.7, 82.3], [0, 40, 80, 120, 160], '2.3 kg in 7 days'],
  ])('trend: heart-failure weight gain over %s', async (_w, kgs, hours, text) => {
    await withPatient({ heartFailure: true })
    const weights = kgs.map((kg, i) => obs('p1', 'body-weight', { value: kg }, T0 + hours[i] * HOUR))
    await f.feed(...weights.slice(0, -1))
    expect(await f.live('p1', 'weight-gain')).toBeUndefined()
    await f.feed(weights.at(-1)!)
    const a = (await f.live('p1', 'weight-gain'))!
    expect(a.severity).toBe('medium')
    expect(a.message).toContain(`up ${text}`)
  })

  // A cuff or scale that syncs its memory newest first: the later reading arrives, and is stored, first.
  const uploadedAt = T0 + 23 * HOUR
  const synced = (o: ReturnType<typeof obs>) => ({ ...o, receivedMs: uploadedAt })

  it('consecutive: two breaching blood pressures that arrive newest first still make the run', async () => {
    await withPatient()
    await f.feed(synced(bp(170, 95, T0 + 10 * MIN)))
    expect(await f.live('p1', 'bp-high')).toBeUndefined()
    await f.feed(synced(bp(165, 90, T0)))
    const a = (await f.live('p1', 'bp-high'))!
    // The alert names the newest reading of the run.
    expect(a.message).toContain('systolic blood pressure 170 mm[Hg] (170/95), 10 above the limit >= 160')
    expect(a.count).toBe(1)
    // A non-breaching reading synced in between breaks the run as it would in order.
    await f.close()
    await withPatient()
    await f.feed(
      synced(bp(170, 95, T0 + 20 * MIN)),
      synced(bp(150, 85, T0 + 10 * MIN)),
      synced(bp(165, 90, T0)),
    )
    expect(await f.live('p1', 'bp-high')).toBeUndefined()
  })

  it('sustained: a span synced newest first alerts when its oldest reading arrives, and a gap still breaks it', async () => {
    const rules = hrSustained()
    const hr = (v: number, min: number) => synced(obs('p1', 'heart-rate', { value: v }, T0 + min * MIN))
    await withPatient({}, rules)
    await f.feed(hr(121, 12), hr(118, 6))
    expect(await f.live('p1', 'hr-sustained')).toBeUndefined()
    await f.feed(hr(115, 0))
    const a = (await f.live('p1', 'hr-sustained'))!
    // The alert names the newest reading of the span, as it would have in order.
    expect(a.message).toContain('Heart rate 121 /min')
    expect(a.message).toContain('out of range for 12 min')
    // An in-range reading inside the span breaks it as it would in order.
    await f.close()
    await withPatient({}, rules)
    await f.feed(hr(121, 12), hr(100, 6), hr(115, 0))
    expect(await f.live('p1', 'hr-sustained')).toBeUndefined()
  })

  it('trend: a weight gain whose newer weight arrived first is found when the older one arrives', async () => {
    await withPatient({ heartFailure: true })
    await f.feed(synced(obs('p1', 'body-weight', { value: 81.6 }, T0 + 22 * HOUR)))
    expect(await f.live('p1', 'weight-gain')).toBeUndefined()
    await f.feed(synced(obs('p1', 'body-weight', { value: 80 }, T0)))
    const a = (await f.live('p1', 'weight-gain'))!
    expect(a.message).toContain('Weight 81.6 kg, up 1.6 kg in 24 h (from 80 kg at')
    expect(a.count).toBe(1)
  })

  it('trend: the weight-gain alert stays open while the gain is kept, and resolves once it is gone', async () => {
    await withPatient({ heartFailure: true })
    const day = (n: number, kg: number) => obs('p1', 'body-weight', { value: kg }, T0 + n * 24 * HOUR)
    await f.feed(day(0, 80), day(1, 81.5))
    expect((await f.live('p1', 'weight-gain'))?.status).toBe('open')
    // +0.5 kg in 24 h and +2.0 in 7 days: below both limits, but the 1.5 kg gained is still there.
    await f.feed(day(2, 82))
    f.clock.ms = T0 + 2 * 24 * HOUR + 31 * MIN
    await f.alerts.sweep()
    expect((await f.live('p1', 'weight-gain'))?.status).toBe('open')
    // Back within 1.4 kg of the week's lowest: the gain is gone, and the alert resolves 30 min later.
    await f.feed(day(3, 81.3))
    f.clock.ms = T0 + 3 * 24 * HOUR + 31 * MIN
    await f.alerts.sweep()
    expect(await f.live('p1', 'weight-gain')).toBeUndefined()
  })

  it('trend: a 1.3 kg gain in a day does not alert, and non-heart-failure patients are not checked', async () => {
    await withPatient({})
    await f.feed(
      obs('p1', 'body-weight', { value: 80 }, T0),
      obs('p1', 'body-weight', { value: 82 }, T0 + HOUR),
    )
    expect(await f.live('p1', 'weight-gain')).toBeUndefined()
    await f.storage.registry.setPatientFlags('p1', { heartFailure: true })
    await f.feed(obs('p1', 'body-weight', { value: 81.3 }, T0 + 2 * HOUR))
    expect(await f.live('p1', 'weight-gain')).toBeUndefined()
  })
})
