import type { Page } from 'playwright-core'
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

// The widest value each column can hold (the plausible limits of shared/reference/CLINICAL.md, in the
// wider unit where there is a choice), on the screens coordinators use: a laptop's 1280 or 1366 px.
const WIDEST: [string, string, Record<string, unknown>][] = [
  ['blood-pressure', 'bp-w', { systolic: 300, diastolic: 200, unit: 'mm[Hg]' }],
  ['heart-rate', 'hr-w', { value: 300, unit: '/min' }],
  ['spo2', 'sp-w', { value: 100, unit: '%' }],
  ['respiratory-rate', 'rr-w', { value: 80, unit: '/min' }],
  ['body-temperature', 't-w', { value: 44.9, unit: 'Cel' }],
  ['blood-glucose', 'g-w', { value: 888, unit: 'mg/dL' }],
  ['body-weight', 'w-w', { value: 488.8, unit: 'kg' }],
]

describeWeb('web UI worklist on a laptop screen', () => {
  it('shows every digit and unit of the widest values on 1280 and 1366 px screens, and every digit at 1024', async ({
    browser,
    h,
  }) => {
    const creds = await h.enrollDevice('multi-1', 'p1')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    const device = await h.connectDevice('multi-1', creds)
    for (const [type, id, fields] of WIDEST)
      await device.publishAsync('rpm/v1/devices/multi-1/readings', reading(id, type, fields), { qos: 1 })

    /** Clipped values and units, and how far the table runs past its scrolling container. */
    const measure = (page: Page) =>
      page.evaluate(() => {
        // A value's natural width (a hidden copy laid out at max-content) against its cell's content box:
        // exact to the fraction of a pixel, where scrollWidth rounds a clipped "mmHg" away.
        const fits = (cell: HTMLElement, part: Element) => {
          const copy = part.cloneNode(true) as HTMLElement
          copy.style.cssText = 'position:absolute;visibility:hidden;display:flex;width:max-content'
          cell.append(copy)
          const need = copy.getBoundingClientRect().width
          copy.remove()
          const cs = getComputedStyle(cell)
          const box =
            cell.getBoundingClientRect().width - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight)
          return need <= box
        }
        const out = { nums: [] as string[], units: [] as string[], overflow: 0 }
        for (const cell of document.querySelectorAll<HTMLElement>('.wl-body [role=cell][data-type]')) {
          const val = cell.querySelector('.val')
          const num = cell.querySelector('.num')
          if (!val || !num) continue
          const name = `${cell.dataset.type}: ${val.textContent}`
          if (!fits(cell, num)) out.nums.push(name)
          else if (!fits(cell, val)) out.units.push(name)
        }
        const box = document.querySelector('.worklist') as HTMLElement
        out.overflow = box.scrollWidth - box.clientWidth
        return out
      })
    // 1264: a 1280 px screen less a classic 16 px scrollbar (headless Chromium draws none).
    for (const width of [1264, 1366]) {
      const { page } = await openPage(browser, h.httpUrl, { width, height: 800 })
      await signIn(page, 'coord@example.org', password)
      const weight = '.wl-row[data-patient="p1"] [data-type="body-weight"] .val'
      await expect.poll(() => text(page, weight), WAIT).toBe('488.8 kg')
      // The wider units: °F and mmol/L ("50.0 mmol/L" is wider than "888 mg/dL").
      await page.getByLabel('Glucose unit').selectOption('mmol/L')
      await page.getByLabel('Temperature unit').selectOption('[degF]')
      const temp = '.wl-row[data-patient="p1"] [data-type="body-temperature"] .val'
      await expect.poll(() => text(page, temp), WAIT).toBe('112.8 °F')
      await expect
        .poll(() => text(page, '.wl-row[data-patient="p1"] [data-type="blood-glucose"] .val'), WAIT)
        .toBe('49.3 mmol/L')
      expect(await measure(page), `at ${width} px`).toEqual({ nums: [], units: [], overflow: 0 })
      await screenshot(page, `web-worklist-${width}`)
      await page.context().close()
    }

    // Narrower still, the table scrolls sideways, and no value loses a digit.
    const { page } = await openPage(browser, h.httpUrl, { width: 1024, height: 768 })
    await signIn(page, 'coord@example.org', password)
    await expect
      .poll(() => text(page, '.wl-row[data-patient="p1"] [data-type="heart-rate"] .num'), WAIT)
      .toBe('300')
    expect((await measure(page)).nums).toEqual([])
    await page.context().close()
  })
})
