import { expect } from 'vitest'
import {
  describeWeb,
  openPage,
  reading,
  screenshot,
  signIn,
  text,
  visible,
  WAIT,
  webTest,
} from '../helpers/browser.ts'

// The coordinator's day in real Chromium: sign in, see the patient, a real device over TLS MQTT
// breaches a threshold, the critical alert arrives live and cannot be missed, the coordinator
// acknowledges it. The strict CSP must hold throughout.

const it = webTest({ p1: 'Ada Lovelace', p2: 'Grace Hopper', p3: 'Not Mine' })

describeWeb('web UI end to end', () => {
  it('signs in, shows the patient, receives a live critical alert from a real MQTT publish and acknowledges it', async ({
    browser,
    h,
  }) => {
    const creds = await h.enrollDevice('ox-1', 'p1')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1', 'p2'])
    const device = await h.connectDevice('ox-1', creds)
    await device.publishAsync(
      'rpm/v1/devices/ox-1/readings',
      reading('r-1', 'heart-rate', { value: 72, unit: 'bpm' }),
      { qos: 1 },
    )

    const { page, violations, consoleErrors } = await openPage(browser, h.httpUrl)
    // Observe (not replace) Web Audio: count oscillators started, to prove sound stays off until enabled.
    await page.addInitScript(() => {
      const w = window as any
      w.__tones = 0
      const start = OscillatorNode.prototype.start
      OscillatorNode.prototype.start = function (...args: any[]) {
        w.__tones++
        return start.apply(this, args as any)
      }
    })
    await page.reload()
    await signIn(page, 'coord@example.org', password)
    const row = page.locator('.wl-row[data-patient="p1"]')
    await expect
      .poll(() => text(page, '.wl-row[data-patient="p1"] [data-type="heart-rate"] .val'), WAIT)
      .toBe('72 /min')
    await expect.poll(() => text(page, '#live'), WAIT).toContain('Live')
    // Only the care team: p3 is someone else's patient.
    expect(await page.locator('.wl-row[data-patient="p3"]').count()).toBe(0)
    await screenshot(page, 'web-01-worklist')

    await device.publishAsync(
      'rpm/v1/devices/ox-1/readings',
      reading('r-2', 'spo2', { value: 82, unit: '%' }),
      { qos: 1 },
    )
    const banner = page.locator('#critical')
    await expect.poll(() => visible(page, '#critical'), WAIT).toBe(true)
    expect(await banner.textContent()).toMatch(/CRITICAL ALERT.*Ada Lovelace/)
    await expect.poll(() => text(page, '#announce'), WAIT).toMatch(/Critical alert for Ada Lovelace/)
    expect(await page.title()).toMatch(/CRITICAL/)
    // Without a reload: the row moved to the top, with the severity in words, not only in colour.
    await expect
      .poll(
        () => page.evaluate(() => document.querySelector('.wl-body .wl-row')?.getAttribute('data-patient')),
        WAIT,
      )
      .toBe('p1')
    expect(await row.locator('.c-attn').textContent()).toContain('CRITICAL')
    expect(await row.locator('[data-type="spo2"] .val').textContent()).toBe('82 %')
    const item = page.locator('li.alert.sev-critical')
    expect(await item.textContent()).toContain('spo2-low')
    // Critical alerts cannot be snoozed, so the UI does not offer it.
    expect(await item.getByRole('button', { name: 'Snooze for me' }).count()).toBe(0)
    await screenshot(page, 'web-02-critical-alert')

    expect(await page.evaluate(() => (window as any).__tones)).toBe(0)

    await item.getByRole('button', { name: 'Acknowledge' }).click()
    await expect.poll(() => text(page, 'li.alert.sev-critical'), WAIT).toContain('Acknowledged')
    await expect.poll(() => visible(page, '#critical'), WAIT).toBe(false)
    const cookie = await h.login('coord@example.org', password)
    const alerts = await (await fetch(`${h.httpUrl}/api/alerts?patient=p1`, { headers: { cookie } })).json()
    expect(alerts.alerts.find((a: any) => a.rule === 'spo2-low')).toMatchObject({
      status: 'acknowledged',
      severity: 'critical',
    })
    await screenshot(page, 'web-03-acknowledged')

    // With sound switched on (a click: browsers allow audio only after a gesture), the next critical alert
    // also plays a tone.
    await page.getByRole('button', { name: 'Sound: off' }).click()
    expect(await page.locator('#sound').getAttribute('aria-pressed')).toBe('true')
    const other = await h.connectDevice('ox-2', await h.enrollDevice('ox-2', 'p2'))
    await other.publishAsync('rpm/v1/devices/ox-2/readings', reading('q-1', 'spo2', { value: 80 }), {
      qos: 1,
    })
    await expect.poll(() => text(page, '#critical'), WAIT).toContain('Grace Hopper')
    await expect.poll(() => page.evaluate(() => (window as any).__tones), WAIT).toBe(1)
    expect(violations).toEqual([])
    expect(consoleErrors).toEqual([])
  })

  it('is served under a strict CSP that reports no violation, and the detector does catch one', async ({
    browser,
    h,
  }) => {
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    const res = await fetch(h.httpUrl)
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain("style-src 'self'")
    expect(csp).not.toContain('unsafe-inline')
    const { page, violations, consoleErrors } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await page.locator('.wl-row[data-patient="p1"] a').click()
    await page.locator('#patient-title').waitFor()
    await page.evaluate(() => {
      location.hash = '#/'
    })
    await page.locator('.wl-row[data-patient="p1"]').waitFor()
    expect(violations).toEqual([])
    expect(consoleErrors).toEqual([])
    // Positive control: an inline script is blocked and reported, so an empty list above means something.
    await page.evaluate(() => {
      const s = document.createElement('script')
      s.textContent = 'window.__ran = true'
      document.body.append(s)
    })
    await expect.poll(() => violations.length, WAIT).toBeGreaterThan(0)
    expect(await page.evaluate(() => (window as any).__ran)).toBeUndefined()
  })

  it('keeps rows the same height under a stream of readings and never re-creates untouched rows', async ({
    browser,
    h,
  }) => {
    const creds = await h.enrollDevice('hr-1', 'p1')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1', 'p2'])
    const { page } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await page.locator('.wl-row[data-patient="p2"]').waitFor()
    const before = await page.evaluate(() => {
      const rows = [...document.querySelectorAll('.wl-body .wl-row')] as HTMLElement[]
      ;(window as any).__p2 = document.querySelector('.wl-row[data-patient="p2"]')
      return rows.map((r) => r.getBoundingClientRect().height)
    })
    const device = await h.connectDevice('hr-1', creds)
    for (let i = 0; i < 30; i++)
      await device.publishAsync(
        'rpm/v1/devices/hr-1/readings',
        reading(`s-${i}`, 'heart-rate', { value: 60 + i }),
        { qos: 1 },
      )
    await expect
      .poll(() => text(page, '.wl-row[data-patient="p1"] [data-type="heart-rate"] .val'), WAIT)
      .toBe('89 /min')
    const after = await page.evaluate(() => ({
      heights: [...document.querySelectorAll('.wl-body .wl-row')].map(
        (r) => r.getBoundingClientRect().height,
      ),
      p2Same: (window as any).__p2 === document.querySelector('.wl-row[data-patient="p2"]'),
    }))
    expect(after.heights).toEqual(before)
    expect(after.p2Same).toBe(true)
  })
})
