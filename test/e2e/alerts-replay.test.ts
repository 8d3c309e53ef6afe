import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_RULES } from '../../alerts/default-rules.ts'
import { replay } from '../../alerts/replay.ts'
import { createLogger } from '../../shared/logger.ts'
import { type AlertsFixture, alertsFixture, MIN, obs, T0 } from './alerts-fixture.ts'

// The dry run replays through the live engine: the same readings give the same alerts, and nothing
// reaches the real alert store.

describe('replay (dry run)', () => {
  let f: AlertsFixture
  beforeEach(async () => {
    f = await alertsFixture()
    await f.storage.registry.addPatient({ id: 'p1', name: 'P One', flags: { heartFailure: true } })
    await f.storage.registry.addPatient({ id: 'p2', name: 'P Two' })
  })
  afterEach(async () => f.close())

  const history = () => [
    obs('p1', 'heart-rate', { value: 135 }, T0),
    obs('p1', 'heart-rate', { value: 118 }, T0 + 5 * MIN),
    obs('p1', 'heart-rate', { value: 140 }, T0 + 10 * MIN),
    obs('p2', 'spo2', { value: 84 }, T0 + 11 * MIN),
    obs('p2', 'blood-pressure', { systolic: 165, diastolic: 90 }, T0 + 20 * MIN),
    obs('p2', 'blood-pressure', { systolic: 168, diastolic: 92 }, T0 + 80 * MIN),
    obs('p1', 'body-weight', { value: 80 }, T0 + 90 * MIN),
    obs('p1', 'body-weight', { value: 81.6 }, T0 + 20 * 60 * MIN),
  ]

  it('raises exactly what live evaluation raised, per rule, patient and severity, without storing any', async () => {
    const data = history()
    await f.feed(...data)
    const live = (await f.storage.alerts.list({ limit: 100 })).map((a) => [
      a.patientId,
      a.rule,
      a.severity,
      a.count,
    ])

    // A fresh database holding only the readings: the replay must find the same alerts.
    const g = await alertsFixture()
    try {
      await g.alerts.close()
      for (const p of await f.storage.registry.listPatients())
        await g.storage.registry.addPatient({ id: p.id, name: p.name, flags: p.flags })
      await g.storage.readings.write(data)
      const report = await replay({
        rules: DEFAULT_RULES,
        fromMs: T0 - MIN,
        toMs: T0 + 21 * 60 * MIN,
        readings: g.storage.readings,
        patients: await g.storage.registry.listPatients(),
        log: createLogger({ level: 'silent' }),
      })
      const replayed = report.raised
        .filter((a) => a.rule !== 'no-data')
        .map((a) => [a.patientId, a.rule, a.severity, a.count])
      expect(replayed.sort()).toEqual(live.sort())
      // The scheduled checks run in simulated time too: p1's wearable went quiet after 3 readings.
      expect(report.raised.find((a) => a.rule === 'no-data')).toMatchObject({
        patientId: 'p1',
        severity: 'low',
      })
      expect(report.readings).toBe(data.length)
      expect(report.byRule['hr-high']).toEqual({ total: 1, high: 1 })
      expect(report.byRule['weight-gain']).toEqual({ total: 1, medium: 1 })
      expect(report.byPatient.p2.rules).toMatchObject({ 'spo2-low': 1, 'bp-high': 1 })
      expect(report.bySeverity.critical).toBe(1)
      expect(await g.storage.alerts.list({ limit: 10 })).toEqual([])
    } finally {
      await g.close()
    }
  })
})
