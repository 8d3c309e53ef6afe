import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../helpers/harness.ts'

// The server learns of registry changes made elsewhere (the CLI revoking a device, a care team changed)
// by polling the registry_events table. When that fails, it must not be only an error line four times a
// second: it is logged once, /readyz is degraded with what it means, and both clear once it works again.
// The failure is real: the table is renamed away under the running server.

describe('registry poll failure', () => {
  let h: Harness
  beforeEach(async () => {
    h = await startHarness()
  })
  afterEach(async () => h.close())

  const readyz = async () => (await fetch(`${h.httpUrl}/readyz`)).json()

  it('is logged once, degrades readiness with what it means, and clears when the poll works again', async () => {
    expect(await readyz()).toMatchObject({ status: 'ready', checks: { registry: { ok: true } } })
    const db = new DatabaseSync(path.join(h.dataDir, 'vitalwire.db'))
    db.exec('PRAGMA busy_timeout = 5000')
    db.exec('ALTER TABLE registry_events RENAME TO registry_events_away')
    try {
      await expect.poll(readyz, { timeout: 5000 }).toMatchObject({
        status: 'degraded',
        checks: {
          registry: {
            ok: true,
            degraded: true,
            detail: expect.stringMatching(
              /^changes made with the CLI or by another server \(revocations, care teams, devices\) are not applied since /,
            ),
          },
        },
      })
      // On /metrics too, for Prometheus alerting.
      const metrics = await (await fetch(`${h.httpUrl}/metrics`)).text()
      expect(metrics).toContain('vitalwire_check_degraded{check="registry"} 1')
      expect(metrics).toContain('vitalwire_check_up{check="registry"} 1')
      // Several polls later, still one error line.
      await new Promise((r) => setTimeout(r, 1000))
      expect(h.logs.filter((l) => l.msg.startsWith('registry poll failed'))).toHaveLength(1)
    } finally {
      db.exec('ALTER TABLE registry_events_away RENAME TO registry_events')
      db.close()
    }
    await expect
      .poll(readyz, { timeout: 5000 })
      .toMatchObject({ status: 'ready', checks: { registry: { ok: true } } })
    expect(h.logs.some((l) => l.msg === 'registry poll works again')).toBe(true)
  })
})
