import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { expect } from 'vitest'
import {
  describeWeb,
  openPage,
  reading,
  screenshot,
  signIn,
  text,
  WAIT,
  webTest,
} from '../helpers/browser.ts'

// When Vitalwire itself fails, the care team sees it: the screen never looks normal while alerts may be
// missing. The failure is real: a trigger in the server's own database file aborts every alert write,
// so the evaluation of a breaching reading fails (alerts.check, /readyz), and the dashboard, which
// reads /readyz every 10 s, shows it.

const it = webTest({ p1: 'Ada Lovelace' })

describeWeb('web UI: Vitalwire failing is never a normal-looking screen', () => {
  it('shows a banner when alert checks fail, in plain words, with the server detail', async ({
    browser,
    h,
  }) => {
    const creds = await h.enrollDevice('hr-1', 'p1')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    const { page, consoleErrors } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await page.waitForSelector('.wl-row[data-patient="p1"]')
    expect(await page.locator('#system').isHidden()).toBe(true)

    const db = new DatabaseSync(path.join(h.dataDir, 'vitalwire.db'))
    db.exec('PRAGMA busy_timeout = 5000')
    db.exec(
      "CREATE TRIGGER fail_alerts BEFORE INSERT ON alerts BEGIN SELECT RAISE(ABORT, 'disk says no'); END",
    )
    try {
      const device = await h.connectDevice('hr-1', creds)
      await device.publishAsync(
        'rpm/v1/devices/hr-1/readings',
        reading('r-1', 'heart-rate', { value: 150 }),
        {
          qos: 1,
        },
      )
      await device.endAsync()
      // The evaluation runs after the PUBACK.
      const readyz = async () => (await fetch(`${h.httpUrl}/readyz`)).json()
      await expect.poll(readyz, WAIT).toMatchObject({
        status: 'degraded',
        checks: { alerts: { ok: true, degraded: true } },
      })

      await expect
        .poll(() => text(page, '#system [data-check="alerts"]'), { ...WAIT, timeout: 20_000 })
        .toMatch(
          /^Alerting has a problem: alerts may be missing or may not reach on call\. Tell your administrator\. \(1 alert check failed since /,
        )
      expect(await page.locator('#system').getAttribute('role')).toBe('alert')
      expect(await page.locator('#system').isVisible()).toBe(true)
      await screenshot(page, 'web-system-status')
      expect(consoleErrors).toEqual([])
    } finally {
      db.exec('DROP TRIGGER fail_alerts')
      db.close()
    }
  })
})
