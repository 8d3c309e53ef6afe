import { expect } from 'vitest'
import { describeWeb, openPage, screenshot, signIn, text, WAIT, webTest } from '../helpers/browser.ts'

// The patient view: uPlot trends with the patient's alert limits, day/week/month, devices, alert history and
// the RPM days-with-readings band, all from real readings sent by a real device.

const DAY = 86_400_000

const it = webTest({ p1: 'Ada Lovelace' })

describeWeb('web UI patient view', () => {
  it('draws trends with thresholds, switches range, and shows devices, alert history and the RPM band', async ({
    browser,
    h,
  }) => {
    const creds = await h.enrollDevice('ox-1', 'p1')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    const device = await h.connectDevice('ox-1', creds)
    const now = Date.now()
    // One SpO2 reading a day for 10 days (the last one low, which alerts), and blood pressure today.
    const readings = Array.from({ length: 10 }, (_, i) => ({
      id: `s-${i}`,
      type: 'spo2',
      ts: new Date(now - (9 - i) * DAY - 60_000).toISOString(),
      value: i === 9 ? 88 : 95 + (i % 3),
      unit: '%',
      battery: 64,
    }))
    readings.push({
      id: 'bp-1',
      type: 'blood-pressure',
      ts: new Date(now - 3_600_000).toISOString(),
      systolic: 150,
      diastolic: 95,
      unit: 'mmHg',
    } as any)
    await device.publishAsync('rpm/v1/devices/ox-1/readings', JSON.stringify({ readings }), { qos: 1 })

    const { page, violations, consoleErrors } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await page.locator('.wl-row[data-patient="p1"] a').waitFor()
    await expect.poll(() => text(page, '.wl-row[data-patient="p1"] .c-attn'), WAIT).toContain('HIGH')
    await page.click('.wl-row[data-patient="p1"] a')
    expect(page.url()).toMatch(/#\/patients\/p1$/)
    await expect.poll(() => text(page, '#rpm-days'), WAIT).toBe('10 of 30 days: CPT 99445 (2–15 days)')

    const spo2 = 'figure[data-type="spo2"]'
    await expect.poll(() => page.locator(`${spo2} canvas`).count(), WAIT).toBe(1)
    expect(await text(page, `${spo2} figcaption`)).toBe('SpO₂ (%)')
    expect(await text(page, `${spo2} .chart-summary`)).toMatch(/^7 readings: min 88, max 97, latest 88 %\.$/)
    expect(await text(page, `${spo2} .thresholds`)).toContain('spo2-low: 90 % (high)')
    expect(await text(page, 'figure[data-type="blood-pressure"] .chart-summary')).toContain(
      'systolic min 150',
    )
    // The threshold line is drawn on the canvas: the 90 % line's colour is in the plotted pixels.
    const hasLine = await page.evaluate((sel) => {
      const c = document.querySelector(`${sel} canvas`) as HTMLCanvasElement
      const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
      for (let i = 0; i < d.length; i += 4)
        if (d[i] === 0xc2 && d[i + 1] === 0x41 && d[i + 2] === 0x0c) return true
      return false
    }, spo2)
    expect(hasLine).toBe(true)
    await screenshot(page, 'web-patient-week')

    await page.getByRole('button', { name: 'Month' }).click()
    await expect.poll(() => text(page, `${spo2} .chart-summary`), WAIT).toMatch(/^10 readings/)
    expect(await page.getByRole('button', { name: 'Month' }).getAttribute('aria-pressed')).toBe('true')
    await page.getByRole('button', { name: 'Day' }).click()
    await expect.poll(() => text(page, `${spo2} .chart-summary`), WAIT).toMatch(/^1 reading:/)

    const dev = await text(page, 'tr[data-device="ox-1"]')
    expect(dev).toContain('connected')
    expect(dev).toContain('64 %')
    expect(await text(page, 'table.history')).toContain('spo2-low')
    await screenshot(page, 'web-patient-day')
    expect(violations).toEqual([])
    expect(consoleErrors).toEqual([])
  })
})
