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
import { freePort } from '../helpers/influxd.ts'

// InfluxDB down, as the care team sees it: the worklist and the patient's latest values are there (they
// come from the local store), the trends say why they are missing, and the banner says history is behind.

const it = webTest()

describeWeb('web UI with InfluxDB unreachable', () => {
  it('shows the patient with current values, says why the trends are missing, and says so in the banner', async ({
    browser,
    start,
  }) => {
    const h = await start({ env: { INFLUX_URL: `http://127.0.0.1:${await freePort()}` } })
    await h.enrollPatient('p1', { name: 'Ada Lovelace' })
    const creds = await h.enrollDevice('hr-1', 'p1')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    const device = await h.connectDevice('hr-1', creds)
    await device.publishAsync('rpm/v1/devices/hr-1/readings', reading('r-1', 'heart-rate', { value: 72 }), {
      qos: 1,
    })
    await device.endAsync()

    const { page, consoleErrors } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await expect
      .poll(() => text(page, '.wl-row[data-patient="p1"] [data-type="heart-rate"] .val'), WAIT)
      .toBe('72 /min')
    await page.goto(`${h.httpUrl}/#/patients/p1`)
    await expect
      .poll(() => text(page, '.history-unavailable'), WAIT)
      .toBe(
        'Reading history cannot be shown right now (storage unavailable). Latest values above are current; the trends come back when the server can read the history again.',
      )
    expect(await text(page, '#latest-title')).toBe('Latest')
    expect(await page.locator('.patient').textContent()).toContain('72')
    await expect
      .poll(() => text(page, '#system [data-check="influx"] strong'), { ...WAIT, timeout: 20_000 })
      .toBe('Reading history may be incomplete: readings are waiting to reach the history database.')
    await screenshot(page, 'web-influx-down-patient')
    // The failed history requests are the only console errors (the browser logs each 503).
    expect(consoleErrors.filter((e) => !/503/.test(e))).toEqual([])
  })
})
