import mqtt from 'mqtt'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { CLI, closed, run, waitForAudit } from './broker-helpers.ts'

// Revocation reaches a running server at once, whichever way it is made: the CLI in another process
// (through the registry events table), the REST API, or pausing the patient's monitoring.

const DISCONNECT_WITHIN_MS = 1500

describe('broker revocation', { timeout: 90_000 }, () => {
  let h: Harness
  const secrets: Record<string, string> = {}
  beforeEach(async () => {
    h = await startHarness()
    await h.enrollPatient('p1')
    await h.enrollPatient('p2')
    for (const [id, p] of [
      ['d1', 'p1'],
      ['d2', 'p1'],
      ['d3', 'p2'],
    ]) {
      secrets[id] = (await h.enrollDevice(id, p)).secret!
    }
  })
  afterEach(async () => h.close())

  const cli = (...args: string[]) => run(process.execPath, [CLI, ...args], { VITALWIRE_DATA_DIR: h.dataDir })
  const refusedCode = (id: string) =>
    mqtt
      .connectAsync(h.mqttUrl, {
        clientId: id,
        username: id,
        password: secrets[id],
        ca: h.ca,
        protocolVersion: 4,
        reconnectPeriod: 0,
      })
      .then(
        async (c) => {
          await c.endAsync()
          return 0
        },
        (e) => e.code as number,
      )
  async function expectDisconnected(client: mqtt.MqttClient, sinceMs: number) {
    await closed(client)
    expect(Date.now() - sinceMs).toBeLessThan(DISCONNECT_WITHIN_MS)
  }

  it('`vitalwire devices revoke` in another process disconnects the device within a second and refuses it after', async () => {
    const d1 = await h.connectDevice('d1', { secret: secrets.d1 })
    const d2 = await h.connectDevice('d2', { secret: secrets.d2 })
    const gone = closed(d1)
    const r = await cli('devices', 'revoke', 'd1', '--json')
    expect(r.code, r.stderr).toBe(0)
    const t = Date.now()
    await gone
    expect(Date.now() - t).toBeLessThan(DISCONNECT_WITHIN_MS)
    expect(await refusedCode('d1')).toBe(5)
    await waitForAudit(
      h,
      (a) => a.action === 'mqtt.connect' && a.target === 'd1' && String(a.detail).includes('revoked'),
    )
    expect(d2.connected).toBe(true)
  })

  it('DELETE /api/devices/{id} by an admin disconnects and refuses the device', async () => {
    const password = await h.addUser('admin@example.org', 'admin')
    const cookie = await h.login('admin@example.org', password)
    const d2 = await h.connectDevice('d2', { secret: secrets.d2 })
    const res = await fetch(`${h.httpUrl}/api/devices/d2`, { method: 'DELETE', headers: { cookie } })
    expect(res.status).toBe(204)
    // Measured from the response: the request's own latency on a loaded machine is not the broker's.
    await expectDisconnected(d2, Date.now())
    expect(await refusedCode('d2')).toBe(5)
    // Again: nothing changes, and the answer says so (it was a 204, audited as a second revocation).
    const again = await fetch(`${h.httpUrl}/api/devices/d2`, { method: 'DELETE', headers: { cookie } })
    expect(again.status).toBe(409)
    expect((await again.json()).error).toMatchObject({
      code: 'VW_ERR_CONFLICT',
      message: expect.stringMatching(/^device d2 was already revoked at .*; nothing changed$/),
    })
    const cliAgain = await cli('devices', 'revoke', 'd2')
    expect([cliAgain.code, cliAgain.stderr]).toEqual([
      1,
      expect.stringContaining('device d2 was already revoked'),
    ])
  })

  it('`vitalwire patients pause` disconnects all the patient’s devices; `resume` lets them back', async () => {
    const d1 = await h.connectDevice('d1', { secret: secrets.d1 })
    const d2 = await h.connectDevice('d2', { secret: secrets.d2 })
    const d3 = await h.connectDevice('d3', { secret: secrets.d3 })
    const gone = Promise.all([closed(d1), closed(d2)])
    const r = await cli('patients', 'pause', 'p1')
    expect(r.code, r.stderr).toBe(0)
    const t = Date.now()
    await gone
    expect(Date.now() - t).toBeLessThan(DISCONNECT_WITHIN_MS)
    expect(d3.connected).toBe(true) // another patient's device stays
    expect(await refusedCode('d1')).toBe(5)
    expect((await cli('patients', 'resume', 'p1')).code).toBe(0)
    expect(await refusedCode('d1')).toBe(0)
  })
})
