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

// Unit confusion (mg/dL vs mmol/L, °C vs °F) is the complaint users of other dashboards raise most: every
// value carries its unit, the column header says it too, and the choice survives a reload.

const it = webTest({ p1: 'Ada Lovelace' })

describeWeb('web UI units', () => {
  it('switches glucose to mmol/L and temperature to °F, labels every value, and keeps the choice', async ({
    browser,
    h,
  }) => {
    const creds = await h.enrollDevice('gl-1', 'p1')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    const device = await h.connectDevice('gl-1', creds)
    await device.publishAsync(
      'rpm/v1/devices/gl-1/readings',
      reading('g-1', 'blood-glucose', { value: 100, unit: 'mg/dL' }),
      { qos: 1 },
    )
    await device.publishAsync(
      'rpm/v1/devices/gl-1/readings',
      reading('t-1', 'body-temperature', { value: 37, unit: 'Cel' }),
      { qos: 1 },
    )

    const { page, violations } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    const glucose = '.wl-row[data-patient="p1"] [data-type="blood-glucose"] .val'
    const temp = '.wl-row[data-patient="p1"] [data-type="body-temperature"] .val'
    await expect.poll(() => text(page, glucose), WAIT).toBe('100 mg/dL')
    expect(await text(page, temp)).toBe('37.0 °C')
    expect(await text(page, '[role=columnheader][data-type="blood-glucose"] .unit')).toBe('mg/dL')

    await page.getByLabel('Glucose unit').selectOption('mmol/L')
    await page.getByLabel('Temperature unit').selectOption('[degF]')
    await expect.poll(() => text(page, glucose), WAIT).toBe('5.6 mmol/L')
    // Each select re-renders on its own animation frame: wait for the second one too.
    await expect.poll(() => text(page, temp), WAIT).toBe('98.6 °F')
    expect(await text(page, '[role=columnheader][data-type="blood-glucose"] .unit')).toBe('mmol/L')
    expect(await text(page, '[role=columnheader][data-type="body-temperature"] .unit')).toBe('°F')
    // Regression: a narrow glucose column clipped "5.6 mmol/L" to "5.6 m…", hiding the unit.
    const clipped = await page.evaluate(() =>
      [...document.querySelectorAll('.wl-body [data-type]')]
        .filter((c) => c.scrollWidth > c.clientWidth)
        .map((c) => c.textContent),
    )
    expect(clipped).toEqual([])
    await screenshot(page, 'web-units-mmol-degF')

    // A live reading arrives in the chosen unit too.
    await device.publishAsync(
      'rpm/v1/devices/gl-1/readings',
      reading('g-2', 'blood-glucose', { value: 7.2, unit: 'mmol/L' }),
      { qos: 1 },
    )
    await expect.poll(() => text(page, glucose), WAIT).toBe('7.2 mmol/L')

    await page.reload()
    await expect.poll(() => text(page, glucose), WAIT).toBe('7.2 mmol/L')
    expect(await page.getByLabel('Glucose unit').inputValue()).toBe('mmol/L')
    expect(await page.evaluate(() => localStorage.getItem('vitalwire.prefs'))).toContain('mmol/L')

    // The patient view follows the same preference, including the threshold lines' labels.
    await page.click('.wl-row[data-patient="p1"] a')
    await expect.poll(() => text(page, 'dd[data-type="blood-glucose"]'), WAIT).toMatch(/^7\.2 mmol\/L/)
    await expect
      .poll(() => text(page, 'figure[data-type="blood-glucose"] figcaption'), WAIT)
      .toBe('Glucose (mmol/L)')
    expect(await text(page, 'figure[data-type="blood-glucose"] .thresholds')).toContain(
      'glucose-low: 3.9 mmol/L',
    )
    expect(violations).toEqual([])
  })
})
