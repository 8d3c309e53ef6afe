import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { openWs } from '../helpers/ws-client.ts'

// One reading from a TLS device to a coordinator's screen, through real sockets only.

describe('walking skeleton', () => {
  let h: Harness
  beforeEach(async () => {
    h = await startHarness()
    await h.enrollPatient('p1', { name: 'Ada Lovelace' })
    await h.enrollPatient('p2', { name: 'Someone Else' })
  })
  afterEach(async () => h.close())

  it('delivers a heart rate from a TLS device to the coordinator WebSocket as a FHIR Observation, and alerts', async () => {
    const creds = await h.enrollDevice('hr-1', 'p1')
    const other = await h.enrollDevice('hr-2', 'p2')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    const cookie = await h.login('coord@example.org', password)
    const ws = await openWs(h.httpUrl, cookie)

    const device = await h.connectDevice('hr-1', creds)
    await device.publishAsync(
      'rpm/v1/devices/hr-1/readings',
      JSON.stringify({
        id: 'r-1',
        type: 'heart-rate',
        ts: '2026-11-27T08:15:00+02:00',
        value: 72,
        unit: 'bpm',
      }),
      { qos: 1 },
    )
    const otherDevice = await h.connectDevice('hr-2', other)
    await otherDevice.publishAsync(
      'rpm/v1/devices/hr-2/readings',
      JSON.stringify({ id: 'x-1', type: 'heart-rate', value: 150 }),
      { qos: 1 },
    )

    const msg = await ws.next((m) => m.type === 'observation')
    expect(msg.patientId).toBe('p1')
    const obs = msg.observation
    expect(obs).toMatchObject({
      resourceType: 'Observation',
      status: 'final',
      category: [
        {
          coding: [
            { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs' },
          ],
        },
      ],
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
      subject: { reference: 'Patient/p1' },
      device: { reference: 'Device/hr-1' },
      effectiveDateTime: '2026-11-27T08:15:00+02:00',
      valueQuantity: { value: 72, system: 'http://unitsofmeasure.org', code: '/min' },
      identifier: [{ system: 'urn:vitalwire:reading', value: 'hr-1:r-1' }],
    })

    await device.publishAsync(
      'rpm/v1/devices/hr-1/readings',
      JSON.stringify({ id: 'r-2', type: 'heart-rate', value: 142 }),
      { qos: 1 },
    )
    const alert = (await ws.next((m) => m.type === 'alert')).alert
    expect(alert).toMatchObject({
      patientId: 'p1',
      rule: 'hr-high',
      severity: 'high',
      status: 'open',
      count: 1,
    })
    expect(alert.message).toContain('142')
    expect(alert.observationIds).toHaveLength(1)
    expect(Date.parse(alert.openedAt)).not.toBeNaN()
    // The coordinator of p1 never hears about p2, whose heart rate also breached.
    expect(ws.messages.some((m) => m.patientId === 'p2' || m.alert?.patientId === 'p2')).toBe(false)

    const bundle = await (
      await fetch(`${h.httpUrl}/fhir/r4/Observation?patient=p1`, { headers: { cookie } })
    ).json()
    expect(bundle).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 2 })
    expect(bundle.entry.map((e: any) => e.resource.identifier[0].value).sort()).toEqual([
      'hr-1:r-1',
      'hr-1:r-2',
    ])
    ws.close()
  })

  it('serves health endpoints and sets a strict session cookie', async () => {
    expect(await (await fetch(`${h.httpUrl}/healthz`)).json()).toEqual({ status: 'ok' })
    const ready = await fetch(`${h.httpUrl}/readyz`)
    expect(ready.status).toBe(200)
    expect((await ready.json()).status).toBe('ready')
    const password = await h.addUser('a@example.org', 'admin')
    const res = await fetch(`${h.httpUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@example.org', password }),
    })
    const cookie = res.headers.get('set-cookie') ?? ''
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Strict/i)
  })

  it('refuses a WebSocket without a session and a login with a wrong password', async () => {
    await expect(openWs(h.httpUrl, '')).rejects.toThrow(/401/)
    await h.addUser('c@example.org', 'coordinator')
    const res = await fetch(`${h.httpUrl}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'c@example.org', password: 'wrong' }),
    })
    expect(res.status).toBe(401)
    expect((await res.json()).error.code).toBe('VW_ERR_AUTH_INVALID')
  })
})
