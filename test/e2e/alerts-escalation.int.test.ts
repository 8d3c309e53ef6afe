import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { webhookNotifier } from '../../alerts/escalation.ts'
import { type AlertsFixture, alertsFixture, MIN, obs, T0 } from './alerts-fixture.ts'

// Escalation against a real local HTTP server standing in for the on-call webhook.

describe('escalation', () => {
  let f: AlertsFixture
  let server: http.Server
  let received: any[]
  let status: number
  beforeEach(async () => {
    received = []
    status = 204
    server = http.createServer((req, res) => {
      let body = ''
      req.on('data', (c) => {
        body += c
      })
      req.on('end', () => {
        received.push({ method: req.method, type: req.headers['content-type'], body: JSON.parse(body) })
        res.writeHead(status).end()
      })
    })
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`
    f = await alertsFixture({ escalateAfterMs: 15 * MIN }, webhookNotifier(url))
    await f.storage.registry.addPatient({ id: 'p1', name: 'P One' })
    await f.storage.registry.addPatient({ id: 'p2', name: 'P Two' })
  })
  afterEach(async () => {
    await f.close()
    await new Promise((r) => server.close(r))
  })

  it('escalates an open critical alert not acknowledged in time and posts it to the webhook once', async () => {
    await f.feed(obs('p1', 'spo2', { value: 82 }, T0))
    f.clock.ms = T0 + 14 * MIN
    expect(await f.alerts.escalate()).toEqual([])
    f.clock.ms = T0 + 15 * MIN
    const [a] = await f.alerts.escalate()
    expect(a).toMatchObject({ rule: 'spo2-low', severity: 'critical', escalated: true })
    expect(received).toHaveLength(1)
    expect(received[0]).toMatchObject({
      method: 'POST',
      type: 'application/json',
      body: { type: 'alert-escalated', alert: { id: a.id, patientId: 'p1', escalated: true } },
    })
    expect(f.of('spo2-low').at(-1)!.alert.history.at(-1)).toMatchObject({ action: 'escalated' })
    f.clock.ms = T0 + 30 * MIN
    expect(await f.alerts.escalate()).toEqual([])
    expect(received).toHaveLength(1)
  })

  it('counts from when the alert became critical, not from when it opened milder and was acknowledged', async () => {
    await f.feed(obs('p1', 'spo2', { value: 88 }, T0))
    const high = (await f.live('p1', 'spo2-low'))!
    expect(high.severity).toBe('high')
    await f.alerts.acknowledge(high.id, 'ann@example.org')
    f.clock.ms = T0 + 20 * MIN
    await f.feed(obs('p1', 'spo2', { value: 83 }, T0 + 20 * MIN))
    expect(await f.live('p1', 'spo2-low')).toMatchObject({ severity: 'critical', status: 'open' })
    f.clock.ms = T0 + 34 * MIN
    expect(await f.alerts.escalate()).toEqual([])
    f.clock.ms = T0 + 35 * MIN
    const [a] = await f.alerts.escalate()
    expect(a).toMatchObject({
      id: high.id,
      escalated: true,
      criticalSince: new Date(T0 + 20 * MIN).toISOString(),
    })
  })

  it('acknowledging stops escalation for everyone', async () => {
    await f.feed(obs('p1', 'spo2', { value: 82 }, T0), obs('p2', 'spo2', { value: 80 }, T0))
    const a = (await f.live('p1', 'spo2-low'))!
    await f.alerts.acknowledge(a.id, 'ann@example.org')
    f.clock.ms = T0 + 60 * MIN
    const escalated = await f.alerts.escalate()
    expect(escalated.map((e) => e.patientId)).toEqual(['p2'])
    expect(received.map((r) => r.body.alert.patientId)).toEqual(['p2'])
    expect((await f.storage.alerts.get(a.id))?.escalated).toBeUndefined()
  })

  it('retries the webhook at the next check when it failed', async () => {
    status = 500
    await f.feed(obs('p1', 'spo2', { value: 82 }, T0))
    f.clock.ms = T0 + 15 * MIN
    await f.alerts.escalate()
    const a = (await f.live('p1', 'spo2-low'))!
    expect(a.escalated).toBe(true)
    expect(a.escalationNotifiedAt).toBeUndefined()
    // Never only a log line: counted, and the readiness check says on call has not been told.
    const failed = async () =>
      (await f.metrics.alertFailures.get()).values.find((v) => v.labels.stage === 'escalation-webhook')?.value
    expect(await failed()).toBe(1)
    expect(f.alerts.check()).toEqual({
      ok: true,
      degraded: true,
      detail: `1 escalated critical alert has not reached the escalation webhook since ${new Date(T0 + 15 * MIN).toISOString()}; retried every minute`,
    })
    status = 200
    f.clock.ms = T0 + 16 * MIN
    await f.alerts.escalate()
    expect(received).toHaveLength(2)
    expect((await f.live('p1', 'spo2-low'))?.escalationNotifiedAt).toBe(new Date(T0 + 16 * MIN).toISOString())
    expect(f.alerts.check()).toEqual({ ok: true, degraded: false })
  })

  it('an undelivered escalation stops degrading the check once someone acknowledges the alert', async () => {
    status = 500
    await f.feed(obs('p1', 'spo2', { value: 82 }, T0))
    f.clock.ms = T0 + 15 * MIN
    await f.alerts.escalate()
    expect(f.alerts.check().degraded).toBe(true)
    const a = (await f.live('p1', 'spo2-low'))!
    await f.alerts.acknowledge(a.id, 'ann@example.org')
    f.clock.ms = T0 + 16 * MIN
    await f.alerts.escalate()
    expect(received).toHaveLength(1)
    expect(f.alerts.check()).toEqual({ ok: true, degraded: false })
  })
})
