import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../helpers/harness.ts'

// A disk that fails its sync (EIO) is the one failure a test cannot provoke for real, so the journal's
// fdatasync is replaced with one that fails; everything else is the real server. After a failed sync
// the kernel may have dropped the dirty pages, so nothing may be acknowledged again: the device hears
// no PUBACK (it keeps the reading and resends it later), the log says why, and /readyz is 503 "down".

describe('the disk fails a sync', () => {
  let h: Harness
  let syncs = 0
  beforeEach(async () => {
    syncs = 0
    h = await startHarness({
      internal: {
        fdatasync: (_fd, cb) => {
          syncs++
          cb(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }))
        },
      },
    })
    await h.enrollPatient('p1')
  })
  afterEach(async () => h.close())

  it('acknowledges nothing, says so in the log, and /readyz answers 503 down with the reason', async () => {
    const ready = await fetch(`${h.httpUrl}/readyz`)
    expect(ready.status).toBe(200)
    const metric = async (line: string) =>
      (await (await fetch(`${h.httpUrl}/metrics`)).text()).split('\n').find((l) => l.startsWith(line))
    expect(await metric('vitalwire_check_up{check="storage"}')).toBe('vitalwire_check_up{check="storage"} 1')

    const device = await h.connectDevice('hr-1', await h.enrollDevice('hr-1', 'p1'))
    const closed = new Promise<void>((resolve) => device.once('close', () => resolve()))
    let acked = false
    device.publish(
      'rpm/v1/devices/hr-1/readings',
      JSON.stringify({ id: 'r1', type: 'heart-rate', ts: new Date().toISOString(), value: 72, unit: 'bpm' }),
      { qos: 1 },
      (err) => {
        if (!err) acked = true
      },
    )
    // MQTT 3.1.1 has no negative PUBACK: the broker closes the connection instead of acknowledging.
    await closed
    expect(acked).toBe(false)
    expect(syncs).toBeGreaterThan(0)
    expect(
      h.logs.some((l) => String(l.msg).startsWith('the journal could not sync the database to disk')),
    ).toBe(true)

    const down = await fetch(`${h.httpUrl}/readyz`)
    expect(down.status).toBe(503)
    const body = await down.json()
    expect(body.status).toBe('down')
    expect(body.checks.storage).toEqual({
      ok: false,
      detail:
        'the journal could not sync the database to disk; readings are refused; check the disk, then restart Vitalwire',
    })
    // Prometheus sees it too (it was only on /readyz).
    expect(await metric('vitalwire_check_up{check="storage"}')).toBe('vitalwire_check_up{check="storage"} 0')
    expect(await metric('vitalwire_check_degraded{check="storage"}')).toBe(
      'vitalwire_check_degraded{check="storage"} 0',
    )
    device.end(true)
  })
})
