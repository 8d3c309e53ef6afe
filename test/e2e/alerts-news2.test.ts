import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type AlertsFixture, alertsFixture, MIN, obs, T0 } from './alerts-fixture.ts'

// NEWS2 as a live rule: latest value of each parameter within 1 h, score and breakdown on the alert,
// alert-updated only when the score changes, hysteresis resolve.

describe('NEWS2 rule', () => {
  let f: AlertsFixture
  beforeEach(async () => {
    f = await alertsFixture()
    await f.storage.registry.addPatient({ id: 'p1', name: 'P One', flags: { onOxygen: true } })
  })
  afterEach(async () => f.close())

  const v = (type: Parameters<typeof obs>[1], value: number, at: number) => obs('p1', type, { value }, at)

  it('raises high at total 5, carries score and breakdown, and goes critical at 7', async () => {
    // On oxygen (2) + RR 22 (2) = 4: no alert yet.
    await f.feed(v('respiratory-rate', 22, T0))
    expect(await f.live('p1', 'news2')).toBeUndefined()
    await f.feed(v('heart-rate', 95, T0 + MIN)) // +1 -> 5
    const a = (await f.live('p1', 'news2'))!
    expect(a).toMatchObject({ severity: 'high', score: 5 })
    expect(a.breakdown).toMatchObject({
      respiratoryRate: { value: 22, points: 2 },
      oxygen: { value: 1, points: 2, note: 'oxygen' },
      pulse: { value: 95, points: 1 },
      consciousness: { value: 0, points: 0, note: 'alert (assumed)' },
    })
    expect(a.message).toMatch(
      /^NEWS2 5 \(total >= 5: urgent response\): RR 22 \/min \+2, on oxygen oxygen \+2|^NEWS2 5/,
    )
    await f.feed(v('body-temperature', 39.2, T0 + 2 * MIN)) // +2 -> 7
    expect(await f.live('p1', 'news2')).toMatchObject({ severity: 'critical', score: 7, status: 'open' })
    // Cooler again: 5, high. The alert stays critical until it resolves, and its text says why.
    await f.feed(v('body-temperature', 37.5, T0 + 3 * MIN))
    const after = (await f.live('p1', 'news2'))!
    expect(after).toMatchObject({ severity: 'critical', score: 5 })
    expect(after.message).toMatch(
      /^NEWS2 5 .*\(now high; the alert stays critical, its highest, until it resolves\)$/,
    )
  })

  it('after a restart, a late first reading does not hide newer stored values from the score', async () => {
    const t = T0 + 180 * MIN
    // Stored before the restart: RR 26 (+3) and SpO2 91 (+3 on scale 1) ten minutes ago.
    await f.storage.readings.write([v('respiratory-rate', 26, t - 10 * MIN), v('spo2', 91, t - 10 * MIN)])
    await f.restart()
    f.clock.ms = t
    // The patient's first reading after the restart is a buffered temperature from 150 minutes ago.
    await f.feed(v('body-temperature', 37, t - 150 * MIN))
    await f.feed(v('heart-rate', 95, t)) // +1, and +2 for oxygen: 9
    expect(await f.live('p1', 'news2')).toMatchObject({ severity: 'critical', score: 9 })
  })

  it('pushes alert-updated when the score changes, not when it stays the same', async () => {
    await f.feed(v('respiratory-rate', 26, T0)) // RR 3 -> single parameter 3 (medium), total 5 with O2 -> high
    const updates = () => f.of('news2').filter((p) => p.type === 'alert-updated').length
    expect(f.of('news2')[0]).toMatchObject({ type: 'alert', alert: { score: 5, severity: 'high' } })
    await f.feed(v('respiratory-rate', 27, T0 + MIN)) // still 3 points: same score
    expect(updates()).toBe(0)
    await f.feed(v('spo2', 93, T0 + 2 * MIN)) // scale 1: +2 -> 7
    expect(updates()).toBe(1)
    expect(f.of('news2').at(-1)!.alert).toMatchObject({ score: 7, severity: 'critical' })
  })

  it('uses only values within the window and resolves through hysteresis', async () => {
    await f.feed(v('respiratory-rate', 26, T0))
    expect(await f.live('p1', 'news2')).toBeDefined()
    // 61 min later the RR is out of the window: only oxygen (2) + pulse 70 (0) remain.
    await f.feed(v('heart-rate', 70, T0 + 61 * MIN))
    expect((await f.live('p1', 'news2'))?.recoveringSince).toBe(new Date(T0 + 61 * MIN).toISOString())
    await f.feed(v('heart-rate', 72, T0 + 91 * MIN))
    expect(await f.live('p1', 'news2')).toBeUndefined()
  })

  it('scores SpO2 on scale 2 for hypercapnic patients', async () => {
    await f.storage.registry.addPatient({ id: 'p2', name: 'P Two', flags: { hypercapnic: true } })
    await f.feed(obs('p2', 'spo2', { value: 89 }, T0))
    expect(await f.live('p2', 'news2')).toBeUndefined()
    await f.feed(obs('p2', 'spo2', { value: 83 }, T0 + MIN))
    expect(await f.live('p2', 'news2')).toMatchObject({ score: 3, severity: 'medium' })
  })
})
