import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FAILURE_WINDOW_MS } from '../../alerts/health.ts'
import { type AlertsFixture, alertsFixture, MIN, obs, T0 } from './alerts-fixture.ts'

// Alert work that fails is an alarm that may not have fired: it must show on /metrics and in the
// readiness check, not only in the log. The failures here are real SQLite errors (a trigger that
// aborts writes to the alerts table), on a real database.

describe('alert failures are never silent', () => {
  let f: AlertsFixture
  beforeEach(async () => {
    f = await alertsFixture({ escalateAfterMs: 5 * MIN })
    await f.storage.registry.addPatient({ id: 'p1', name: 'P One' })
  })
  afterEach(async () => f.close())

  const failWrites = (op: 'INSERT' | 'UPDATE') =>
    f.storage.db.exec(
      `CREATE TRIGGER fail_alerts BEFORE ${op} ON alerts BEGIN SELECT RAISE(ABORT, 'disk says no'); END`,
    )
  const healWrites = () => f.storage.db.exec('DROP TRIGGER fail_alerts')
  const failures = async (stage: string) =>
    (await f.metrics.alertFailures.get()).values.find((v) => v.labels.stage === stage)?.value ?? 0

  it('an evaluation that could not open its alert degrades the check, counts, and clears after the window', async () => {
    expect(f.alerts.check()).toEqual({ ok: true, degraded: false })
    failWrites('INSERT')
    await f.feed(obs('p1', 'heart-rate', { value: 150 }, T0))
    expect(await f.live('p1', 'hr-high')).toBeUndefined()
    expect(await failures('evaluation')).toBe(1)
    const t0 = new Date(T0).toISOString()
    expect(f.alerts.check()).toEqual({
      ok: true,
      degraded: true,
      detail: `1 alert check failed since ${t0}, the last at ${t0}: alerts may be missing; the server log has the reasons`,
    })

    // The next breach, once writes work again, opens the alert; the check stays degraded for the window.
    healWrites()
    await f.feed(obs('p1', 'heart-rate', { value: 150 }, T0 + MIN))
    expect(await f.live('p1', 'hr-high')).toMatchObject({ status: 'open' })
    expect(f.alerts.check().degraded).toBe(true)
    f.clock.ms = T0 + FAILURE_WINDOW_MS - 1
    expect(f.alerts.check().degraded).toBe(true)
    f.clock.ms = T0 + FAILURE_WINDOW_MS
    expect(f.alerts.check()).toEqual({ ok: true, degraded: false })
  })

  it('counts several failures in one window, and a failed scheduled run (escalation) too', async () => {
    await f.feed(obs('p1', 'spo2', { value: 80 }, T0))
    expect(await f.live('p1', 'spo2-low')).toMatchObject({ severity: 'critical', status: 'open' })
    failWrites('UPDATE')
    // Two more readings that would update the open alert, then the minute tick that would escalate it.
    await f.feed(obs('p1', 'spo2', { value: 79 }, T0 + MIN), obs('p1', 'spo2', { value: 78 }, T0 + 2 * MIN))
    f.clock.ms = T0 + 6 * MIN
    await expect(f.alerts.tick()).resolves.toBeUndefined()
    expect(await failures('evaluation')).toBe(2)
    expect(await failures('scheduled')).toBe(1)
    expect(f.alerts.check().detail).toMatch(/^3 alert checks failed since .*, the last at /)
    expect((await f.live('p1', 'spo2-low'))?.escalated).toBeFalsy()

    healWrites()
    await f.alerts.tick()
    expect(await f.live('p1', 'spo2-low')).toMatchObject({ escalated: true })
  })

  it('escalates even when the no-data checks of the same tick fail', async () => {
    await f.feed(obs('p1', 'spo2', { value: 80 }, T0))
    // The registry cannot be read (a real SQLite error: the devices table is not there).
    f.storage.db.exec('ALTER TABLE devices RENAME TO devices_away')
    try {
      f.clock.ms = T0 + 6 * MIN
      await f.alerts.tick()
      expect(await failures('scheduled')).toBe(1)
      expect(await f.live('p1', 'spo2-low')).toMatchObject({ severity: 'critical', escalated: true })
    } finally {
      f.storage.db.exec('ALTER TABLE devices_away RENAME TO devices')
    }
  })
})
