import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type AlertsFixture, alertsFixture, MIN, obs, T0 } from './alerts-fixture.ts'

// The alert lifecycle on real SQLite with an injected clock: dedupe, flapping, hysteresis auto-resolve
// (on a reading and on the schedule), user actions kept in history, persistence across restarts.

describe('alert lifecycle', () => {
  let f: AlertsFixture
  beforeEach(async () => {
    f = await alertsFixture()
    await f.storage.registry.addPatient({ id: 'p1', name: 'P One' })
    for (const email of ['ann@example.org', 'bob@example.org'])
      users[email] = (await f.storage.registry.addUser({ email, role: 'coordinator', passwordHash: 'x' })).id
  })
  const users: Record<string, number> = {}
  afterEach(async () => f.close())

  const hr = (v: number, atMs: number) => obs('p1', 'heart-rate', { value: v }, atMs)

  it('folds repeated breaches into one alert with count, worst value and last seen', async () => {
    await f.feed(hr(135, T0), hr(150, T0 + MIN), hr(140, T0 + 2 * MIN))
    const opened = f.of('hr-high').filter((p) => p.type === 'alert')
    expect(opened).toHaveLength(1)
    const a = (await f.live('p1', 'hr-high'))!
    expect(a).toMatchObject({ count: 3, worstValue: 150, severity: 'high', status: 'open' })
    expect(a.lastSeenAt).toBe(new Date(T0 + 2 * MIN).toISOString())
    expect(a.firstSeenAt).toBe(new Date(T0).toISOString())
    // The text says the latest reading; how many and since when are the alert's own fields (above), so
    // the text keeps its shape as the alert repeats.
    expect(a.message).toBe(
      `Heart rate 140 /min, 10 above the limit > 130 at ${new Date(T0 + 2 * MIN).toISOString()}`,
    )
  })

  it('flapping values in and out of range update one alert and never open and close many', async () => {
    for (let i = 0; i < 20; i++) await f.feed(hr(i % 2 ? 120 : 140, T0 + i * 5 * MIN))
    expect(f.of('hr-high').filter((p) => p.type === 'alert')).toHaveLength(1)
    expect(f.pushed.some((p) => p.alert.status === 'resolved')).toBe(false)
    const all = (await f.storage.alerts.list({ patientIds: ['p1'], limit: 10 })).filter(
      (a) => a.rule === 'hr-high',
    )
    expect(all).toHaveLength(1)
    expect(all[0].count).toBe(10)
  })

  it('auto-resolves after values stay inside the band plus margin for 30 minutes (on a reading)', async () => {
    await f.feed(hr(140, T0), hr(120, T0 + MIN))
    expect((await f.live('p1', 'hr-high'))?.recoveringSince).toBe(new Date(T0 + MIN).toISOString())
    // 128 is inside the limit but not the margin (130 - 5): the hysteresis clock starts again.
    await f.feed(hr(128, T0 + 10 * MIN))
    expect((await f.live('p1', 'hr-high'))?.recoveringSince).toBeUndefined()
    await f.feed(hr(120, T0 + 20 * MIN), hr(118, T0 + 49 * MIN))
    expect(await f.live('p1', 'hr-high')).toBeDefined()
    await f.feed(hr(119, T0 + 50 * MIN))
    expect(await f.live('p1', 'hr-high')).toBeUndefined()
    const last = f.of('hr-high').at(-1)!.alert
    expect(last.status).toBe('resolved')
    expect(last.history.at(-1)).toMatchObject({ action: 'auto-resolved', by: 'system' })
  })

  it('auto-resolves on the schedule when no new reading arrives', async () => {
    await f.feed(hr(140, T0), hr(110, T0 + MIN))
    f.clock.ms = T0 + 30 * MIN
    await f.alerts.sweep()
    expect(await f.live('p1', 'hr-high')).toBeDefined()
    f.clock.ms = T0 + 31 * MIN
    await f.alerts.sweep()
    expect(await f.live('p1', 'hr-high')).toBeUndefined()
  })

  it('does not count recovery from a late reading measured before the breach', async () => {
    // SpO2 84 % at T0+60 (critical), then a buffered 97 % from T0 arrives: it says nothing about now.
    const spo2 = (v: number, atMs: number) => obs('p1', 'spo2', { value: v }, atMs)
    await f.feed(spo2(84, T0 + 60 * MIN), spo2(97, T0))
    expect((await f.live('p1', 'spo2-low'))?.recoveringSince).toBeUndefined()
    // Neither the schedule a minute later nor one normal reading a minute after the breach resolves it.
    f.clock.ms = T0 + 61 * MIN
    await f.alerts.sweep()
    await f.feed(spo2(96, T0 + 61 * MIN))
    const live = await f.live('p1', 'spo2-low')
    expect(live).toMatchObject({ status: 'open', severity: 'critical' })
    expect(live?.recoveringSince).toBe(new Date(T0 + 61 * MIN).toISOString())
    // It still escalates, 15 minutes after it opened, with nobody acknowledging it.
    f.clock.ms = T0 + 76 * MIN
    expect(await f.alerts.escalate()).toMatchObject([{ rule: 'spo2-low', escalated: true }])
  })

  it("times hysteresis on the server's clock: a slow device clock does not make a flapping alert open and close", async () => {
    // A wearable 45 minutes slow alternates 140 / 120 every 5 minutes; the minute's sweep runs between.
    const SLOW = 45 * MIN
    for (let i = 0; i < 12; i++) {
      const wall = T0 + i * 5 * MIN
      const o = { ...hr(i % 2 ? 120 : 140, wall - SLOW), receivedMs: wall }
      await f.feed(o)
      f.clock.ms = wall
      for (let m = 1; m <= 4; m++) {
        f.clock.ms = wall + m * MIN
        await f.alerts.tick()
      }
    }
    const all = (await f.storage.alerts.list({ patientIds: ['p1'], limit: 50 })).filter(
      (a) => a.rule === 'hr-high',
    )
    expect(all.map((a) => [a.status, a.count])).toEqual([['open', 6]])
  })

  it('keeps a critical alert from a buffer uploaded late open for the hysteresis time, so it can escalate', async () => {
    // An oximeter offline for 2 h uploads SpO2 82 % and, a minute later by its clock, 93 %.
    const wall = T0 + 120 * MIN
    const spo2 = (v: number, atMs: number) => ({ ...obs('p1', 'spo2', { value: v }, atMs), receivedMs: wall })
    f.clock.ms = wall
    await f.feed(spo2(82, T0), spo2(93, T0 + MIN))
    expect((await f.live('p1', 'spo2-low'))?.recoveringSince).toBe(new Date(wall).toISOString())
    f.clock.ms = wall + MIN
    await f.alerts.tick()
    expect(await f.live('p1', 'spo2-low')).toMatchObject({ status: 'open', severity: 'critical' })
    // Nobody acknowledges it: it escalates at 15 minutes, and resolves itself only after 30.
    f.clock.ms = wall + 15 * MIN
    expect(await f.alerts.escalate()).toMatchObject([{ rule: 'spo2-low', escalated: true }])
    f.clock.ms = wall + 30 * MIN
    await f.alerts.sweep()
    expect(await f.live('p1', 'spo2-low')).toBeUndefined()
  })

  it('does not open a resolved episode again for a late reading from within it, but does for a worse one or a new breach', async () => {
    const spo2 = (v: number, atMs: number, receivedMs = atMs) => ({
      ...obs('p1', 'spo2', { value: v }, atMs),
      receivedMs,
    })
    // SpO2 84 % at T0+30 (critical); the coordinator calls, the patient is fine, it is resolved.
    await f.feed(spo2(84, T0 + 30 * MIN))
    const first = (await f.live('p1', 'spo2-low'))!
    f.clock.ms = T0 + 40 * MIN
    await f.alerts.resolve(first.id, 'bob@example.org', 'probe slipped; re-measured 96 %')
    // A buffered 83 % measured at T0 arrives ten minutes later: part of that episode, not a new page.
    await f.feed(spo2(83, T0, T0 + 50 * MIN))
    expect(await f.live('p1', 'spo2-low')).toBeUndefined()
    const kept = (await f.storage.alerts.get(first.id))!
    expect(kept.status).toBe('resolved')
    expect(kept.history.at(-1)?.note).toMatch(
      /^a reading measured at .* arrived late \(SpO2 83 %.*\); not opened again$/,
    )
    // A new breach after the episode opens a new alert, as it must.
    await f.feed(spo2(84, T0 + 60 * MIN))
    const second = (await f.live('p1', 'spo2-low'))!
    expect(second.id).not.toBe(first.id)
  })

  it('opens a new alert for a late reading worse than the resolved episode', async () => {
    await f.feed(obs('p1', 'spo2', { value: 88 }, T0 + 30 * MIN)) // high
    const first = (await f.live('p1', 'spo2-low'))!
    await f.alerts.resolve(first.id, 'bob@example.org')
    await f.feed({ ...obs('p1', 'spo2', { value: 80 }, T0), receivedMs: T0 + 50 * MIN }) // critical, earlier
    expect(await f.live('p1', 'spo2-low')).toMatchObject({ severity: 'critical', status: 'open' })
  })

  it('keeps who viewed, acknowledged, snoozed and resolved it, with notes', async () => {
    await f.feed(hr(140, T0))
    const id = (await f.live('p1', 'hr-high'))!.id
    await f.alerts.recordView(id, 'ann@example.org')
    await f.alerts.snooze(id, users['ann@example.org'], 'ann@example.org', 30)
    await f.alerts.acknowledge(id, 'bob@example.org', 'called the patient')
    // Acknowledged already: a second acknowledgement without a note changes nothing; one with a note
    // keeps the note.
    await f.alerts.acknowledge(id, 'ann@example.org')
    await f.alerts.acknowledge(id, 'ann@example.org', 'GP informed')
    f.clock.ms += 5 * MIN
    const resolved = await f.alerts.resolve(id, 'bob@example.org', 'rate settled at rest')
    expect(resolved?.status).toBe('resolved')
    expect(resolved?.history.map((h) => [h.action, h.by, h.note])).toEqual([
      ['opened', 'system', undefined],
      ['viewed', 'ann@example.org', undefined],
      ['snoozed', 'ann@example.org', `until ${new Date(T0 + 30 * MIN).toISOString()}`],
      ['acknowledged', 'bob@example.org', 'called the patient'],
      ['acknowledged', 'ann@example.org', 'GP informed'],
      ['resolved', 'bob@example.org', 'rate settled at rest'],
    ])
    // Snooze is per user: only user 7's feed hides it.
    expect([...(await f.storage.alerts.snoozedBy(users['ann@example.org'], T0)).keys()]).toEqual([id])
    expect((await f.storage.alerts.snoozedBy(users['bob@example.org'], T0)).size).toBe(0)
  })

  it("ends everyone's snooze when the alert gets worse", async () => {
    await f.feed(obs('p1', 'spo2', { value: 88 }, T0)) // high
    const id = (await f.live('p1', 'spo2-low'))!.id
    await f.alerts.snooze(id, users['ann@example.org'], 'ann@example.org', 60)
    await f.feed(obs('p1', 'spo2', { value: 87 }, T0 + MIN)) // still high: the snooze holds
    expect([...(await f.storage.alerts.snoozedBy(users['ann@example.org'], T0 + MIN)).keys()]).toEqual([id])
    await f.feed(obs('p1', 'spo2', { value: 82 }, T0 + 2 * MIN)) // critical
    expect(await f.live('p1', 'spo2-low')).toMatchObject({ id, severity: 'critical', status: 'open' })
    expect((await f.storage.alerts.snoozedBy(users['ann@example.org'], T0 + 2 * MIN)).size).toBe(0)
  })

  it('refuses to snooze a critical alert', async () => {
    await f.feed(obs('p1', 'spo2', { value: 82 }, T0))
    const a = (await f.live('p1', 'spo2-low'))!
    expect(a.severity).toBe('critical')
    await expect(
      f.alerts.snooze(a.id, users['ann@example.org'], 'ann@example.org', 30),
    ).rejects.toMatchObject({
      code: 'VW_ERR_ALERT_SNOOZE_CRITICAL',
    })
    expect((await f.storage.alerts.snoozedBy(users['ann@example.org'], T0)).size).toBe(0)
  })

  it('reopens an acknowledged alert when the severity rises', async () => {
    await f.feed(obs('p1', 'spo2', { value: 88 }, T0))
    const a = (await f.live('p1', 'spo2-low'))!
    await f.alerts.acknowledge(a.id, 'ann@example.org')
    await f.feed(obs('p1', 'spo2', { value: 83 }, T0 + MIN))
    expect(await f.live('p1', 'spo2-low')).toMatchObject({ id: a.id, severity: 'critical', status: 'open' })
  })

  it('persists alerts across a restart and keeps updating the same one', async () => {
    await f.feed(hr(140, T0))
    const first = (await f.live('p1', 'hr-high'))!
    await f.restart()
    await f.feed(hr(145, T0 + 2 * MIN))
    expect(await f.live('p1', 'hr-high')).toMatchObject({ id: first.id, count: 2, worstValue: 145 })
    expect(f.of('hr-high').filter((p) => p.type === 'alert')).toHaveLength(1)
  })
})
