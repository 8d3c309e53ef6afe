import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { openWs } from '../helpers/ws-client.ts'
import { closed, deviceRow, reading, until } from './broker-helpers.ts'

// Device status reaches the dashboard as `device-status` WebSocket messages and stays in the registry.

describe('broker device status', () => {
  let h: Harness
  beforeEach(async () => {
    h = await startHarness()
    await h.enrollPatient('p1')
  })
  afterEach(async () => h.close())

  it('publishes connected, battery and disconnected to the dashboard and keeps them in the devices table', async () => {
    const { secret } = await h.enrollDevice('d1', 'p1')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    const ws = await openWs(h.httpUrl, await h.login('coord@example.org', password))

    const before = Date.now()
    const d1 = await h.connectDevice('d1', { secret })
    const up = await ws.next((m) => m.type === 'device-status' && m.deviceId === 'd1' && m.connected)
    expect(Date.parse(up.lastSeen)).toBeGreaterThanOrEqual(before - 1000)
    await until(() => deviceRow(h, 'd1')?.connected === 1, 'connected in the registry')

    await d1.publishAsync('rpm/v1/devices/d1/readings', reading('r1', { battery: 87 }), { qos: 1 })
    const battery = await ws.next((m) => m.type === 'device-status' && m.battery === 87)
    expect(battery).toMatchObject({ deviceId: 'd1', connected: true })
    await until(() => deviceRow(h, 'd1')?.battery === 87, 'battery in the registry')
    // The same level again is no news; a new level is.
    for (const [id, level] of [
      ['r2', 87],
      ['r3', 87],
      ['r4', 86],
    ] as const)
      await d1.publishAsync('rpm/v1/devices/d1/readings', reading(id, { battery: level }), { qos: 1 })
    await ws.next((m) => m.type === 'device-status' && m.battery === 86)
    expect(
      ws.messages.filter((m) => m.type === 'device-status' && m.battery !== undefined).map((m) => m.battery),
    ).toEqual([87, 86])
    await until(() => deviceRow(h, 'd1')?.battery === 86, 'new battery level in the registry')

    const gone = closed(d1)
    await d1.endAsync()
    await gone
    const down = await ws.next((m) => m.type === 'device-status' && m.deviceId === 'd1' && !m.connected)
    expect(Date.parse(down.lastSeen)).toBeGreaterThanOrEqual(Date.parse(up.lastSeen))
    const row = await until(() => {
      const r = deviceRow(h, 'd1')
      return r?.connected === 0 ? r : undefined
    }, 'disconnected in the registry')
    expect(row.last_seen_ms).toBeGreaterThanOrEqual(before - 1000)
    ws.close()
  })

  it('keeps a taken-over device connected in the registry', async () => {
    const { secret } = await h.enrollDevice('d1', 'p1')
    const first = await h.connectDevice('d1', { secret })
    const firstGone = closed(first)
    const takeoverMs = Date.now()
    const second = await h.connectDevice('d1', { secret })
    await firstGone
    await second.publishAsync('rpm/v1/devices/d1/readings', reading('r2'), { qos: 1 })
    // Once the batch holding the takeover is written, the old connection's close must not have marked
    // the device offline while the new one is up.
    const row = await until(() => {
      const r = deviceRow(h, 'd1')
      return r && r.last_seen_ms >= takeoverMs ? r : undefined
    }, 'the takeover written to the registry')
    expect(row.connected).toBe(1)
  })
})
