import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type AlertsFixture, alertsFixture, MIN, obs, T0 } from './alerts-fixture.ts'

// A reading is acknowledged once committed and evaluated just after, in memory. If the process stops in
// between (kill -9, power cut), the next start evaluates what was stored but not evaluated
// (alerts/progress.ts), on the real SQLite store: the journal commit here is the one ingest uses, without
// the event that a crashed process never emitted.

describe('alerts after a restart', () => {
  let f: AlertsFixture
  beforeEach(async () => {
    f = await alertsFixture()
    await f.storage.registry.addPatient({ id: 'p1', name: 'P One' })
  })
  afterEach(async () => f.close())

  const evaluatedThrough = () =>
    (f.storage.db.prepare('SELECT evaluated_seq FROM alert_progress').get() as { evaluated_seq: number })
      .evaluated_seq

  it('evaluates at the next start a breaching reading that was committed but never evaluated', async () => {
    await f.feed(obs('p1', 'spo2', { value: 97 }, T0))
    // Committed (and so acknowledged to the device), then the process died before evaluating it.
    const low = obs('p1', 'spo2', { value: 80 }, T0 + MIN)
    await f.storage.journal.commit({ accepted: [low], deadLetters: [] })
    expect(await f.live('p1', 'spo2-low')).toBeUndefined()

    f.clock.ms = T0 + 2 * MIN
    await f.restart()
    expect(await f.live('p1', 'spo2-low')).toMatchObject({
      severity: 'critical',
      observationIds: [low.id],
      count: 1,
    })
    // Recorded at the clean stop: a further restart evaluates nothing again.
    await f.restart()
    expect(evaluatedThrough()).toBe(low.seq)
    expect((await f.live('p1', 'spo2-low'))?.count).toBe(1)
  })

  it('does not alert twice for a reading evaluated just before a crash (before the watermark was written)', async () => {
    await f.feed(obs('p1', 'heart-rate', { value: 150 }, T0))
    expect((await f.live('p1', 'hr-high'))?.count).toBe(1)
    // As after a crash within the second before the watermark is written.
    await f.restart(() => f.storage.db.exec('UPDATE alert_progress SET evaluated_seq = 0'))
    expect((await f.live('p1', 'hr-high'))?.count).toBe(1)
  })

  it('evaluates a reading again at the next start by the rules that had not put it on an alert yet', async () => {
    // 225/130 is a bp-crisis (critical) and, systolic >= 220 scoring 3, a NEWS2 finding (medium); the
    // rules run in turn, and the process died after bp-crisis's alert, before news2's and before the
    // watermark was written.
    await f.feed(obs('p1', 'blood-pressure', { systolic: 225, diastolic: 130 }, T0))
    expect((await f.live('p1', 'bp-crisis'))?.count).toBe(1)
    await f.restart(() => {
      f.storage.db.exec("DELETE FROM alerts WHERE rule = 'news2'")
      f.storage.db.exec('UPDATE alert_progress SET evaluated_seq = 0')
    })
    await f.alerts.idle()
    expect(await f.live('p1', 'news2')).toMatchObject({ severity: 'medium', count: 1 })
    // And bp-crisis, which had, does not count it twice.
    expect((await f.live('p1', 'bp-crisis'))?.count).toBe(1)
  })

  it('evaluates readings committed during the catch-up once each, in order', async () => {
    const stored = [140, 145].map((v, i) => obs('p1', 'heart-rate', { value: v }, T0 + i * MIN))
    await f.storage.journal.commit({ accepted: stored, deadLetters: [] })
    // Committed just before the restart; its event is emitted while the catch-up runs, after the
    // catch-up has already read it from the store: it must not be evaluated a second time.
    const live = obs('p1', 'heart-rate', { value: 150 }, T0 + 2 * MIN)
    const { fresh } = await f.storage.journal.commit({ accepted: [live], deadLetters: [] })
    await f.restart(() => setImmediate(() => f.events.emit('observations', fresh)))
    await f.alerts.idle()
    const a = await f.live('p1', 'hr-high')
    expect(a).toMatchObject({ count: 3, worstValue: 150 })
    expect(a?.observationIds).toEqual([...stored, live].map((o) => o.id))
  })

  it('evaluates a reading whose event comes during the catch-up and that the catch-up did not read', async () => {
    await f.storage.journal.commit({
      accepted: [obs('p1', 'heart-rate', { value: 140 }, T0)],
      deadLetters: [],
    })
    const live = obs('p1', 'heart-rate', { value: 150 }, T0 + MIN)
    await f.restart(() => {
      void f.storage.journal.commit({ accepted: [live], deadLetters: [] }).then(({ fresh }) => {
        f.events.emit('observations', fresh)
      })
    })
    await f.alerts.idle()
    expect(await f.live('p1', 'hr-high')).toMatchObject({ count: 2, worstValue: 150 })
  })
})
