import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import {
  describeWeb,
  openPage,
  reading,
  screenshot,
  text,
  visible,
  WAIT,
  webTest,
} from '../helpers/browser.ts'

// Keyboard only, no mouse: sign in, open a patient, resolve an alert with a note in an accessible dialog,
// snooze another for this user only. Focus is always visible and never lost.

/** Press Tab until the focused element matches `selector`; fail after `max` presses. */
async function tabTo(page: Page, selector: string, max = 60) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab')
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return
  }
  throw new Error(`Tab never reached ${selector}`)
}

const focusOutline = (page: Page) =>
  page.evaluate(() => {
    const s = getComputedStyle(document.activeElement!)
    return `${s.outlineStyle} ${s.outlineWidth}`
  })

const it = webTest({ p1: 'Ada Lovelace' })

describeWeb('web UI keyboard', () => {
  it('works with the keyboard alone: sign in, open a patient, resolve with a note, snooze for me only', async ({
    browser,
    h,
  }) => {
    const creds = await h.enrollDevice('hr-1', 'p1')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    const colleague = await h.addUser('colleague@example.org', 'coordinator', ['p1'])
    const device = await h.connectDevice('hr-1', creds)
    await device.publishAsync('rpm/v1/devices/hr-1/readings', reading('r-1', 'heart-rate', { value: 142 }), {
      qos: 1,
    })
    await device.publishAsync(
      'rpm/v1/devices/hr-1/readings',
      reading('r-2', 'respiratory-rate', { value: 28 }),
      { qos: 1 },
    )

    const { page, violations } = await openPage(browser, h.httpUrl)
    await page.locator('#email').waitFor()
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('email')
    await page.keyboard.type('coord@example.org')
    await page.keyboard.press('Tab')
    await page.keyboard.type(password)
    await page.keyboard.press('Enter')
    // hr-high, rr-high, and NEWS2 (heart rate 3 + respiration 3 = 6, high).
    await expect.poll(() => page.locator('li.alert').count(), WAIT).toBe(3)

    await tabTo(page, '.wl-row[data-patient="p1"] a')
    expect(await focusOutline(page)).toBe('solid 3px')
    await screenshot(page, 'web-keyboard-focus')
    await page.keyboard.press('Enter')
    await expect.poll(() => page.url(), WAIT).toMatch(/#\/patients\/p1$/)
    await expect.poll(() => text(page, '#patient-title'), WAIT).toBe('Ada Lovelace')
    await tabTo(page, 'a[href="#/"]')
    await page.keyboard.press('Enter')
    await expect.poll(() => page.locator('li.alert').count(), WAIT).toBe(3)

    const hrId = await page.evaluate(() =>
      [...document.querySelectorAll('li.alert')]
        .find((li) => li.textContent!.includes('hr-high'))!
        .getAttribute('data-alert'),
    )
    await tabTo(page, `li[data-alert="${hrId}"] button[data-focus-key="resolve"]`)
    await page.keyboard.press('Enter')
    await expect.poll(() => visible(page, 'dialog[open]'), WAIT).toBe(true)
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('resolve-note')
    // Escape cancels and gives focus back to the button that opened the dialog.
    await page.keyboard.press('Escape')
    await expect.poll(() => visible(page, 'dialog[open]'), WAIT).toBe(false)
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Resolve…')
    await page.keyboard.press('Enter')
    await page.keyboard.type('Called the patient: cuff was loose, recheck normal.')
    await screenshot(page, 'web-keyboard-resolve-dialog')
    await page.keyboard.press('Tab')
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Resolve alert')
    await page.keyboard.press('Enter')
    // While focus is in the feed, the resolved item keeps its slot, greyed and saying so, with the focus
    // on it (its buttons are gone); it leaves the feed when the focus does (freeze.ts).
    await expect.poll(() => page.locator('li.alert:not(.gone)').count(), WAIT).toBe(2)
    expect(await text(page, `li.alert.gone[data-alert="${hrId}"] .status`)).toContain('Resolved')
    expect(await page.evaluate(() => (document.activeElement as HTMLElement).dataset.alert)).toBe(hrId)

    const cookie = await h.login('coord@example.org', password)
    const all = (await (await fetch(`${h.httpUrl}/api/alerts?patient=p1`, { headers: { cookie } })).json())
      .alerts
    const resolved = all.find((a: any) => a.rule === 'hr-high')
    expect(resolved.status).toBe('resolved')
    expect(resolved.history.at(-1)).toMatchObject({
      action: 'resolved',
      by: 'coord@example.org',
      note: 'Called the patient: cuff was loose, recheck normal.',
    })

    // Snooze rr-high for 30 minutes, for me only.
    const rrId = await page.evaluate(() =>
      [...document.querySelectorAll('li.alert')]
        .find((li) => li.textContent!.includes('rr-high'))!
        .getAttribute('data-alert'),
    )
    await tabTo(page, `li[data-alert="${rrId}"] select`)
    await page.keyboard.press('ArrowDown')
    expect(await page.evaluate(() => (document.activeElement as HTMLSelectElement).value)).toBe('30')
    await page.keyboard.press('Tab')
    await page.keyboard.press('Enter')
    await expect.poll(() => page.locator('li.alert:not(.gone)').count(), WAIT).toBe(1)
    expect(await text(page, `li.alert.gone[data-alert="${rrId}"] .status`)).toContain('Snoozed for you')
    // Tabbing out of the feed (round to the worklist) lets the two gone items go.
    await tabTo(page, '.wl-row a')
    await expect.poll(() => page.locator('li.alert').count(), WAIT).toBe(1)
    expect(await page.locator(`li[data-alert="${rrId}"]`).count()).toBe(0)
    expect(await text(page, '.snoozed-note')).toBe('1 snoozed by you (still visible to your team).')
    const mine = (await (await fetch(`${h.httpUrl}/api/alerts?status=open`, { headers: { cookie } })).json())
      .alerts
    const snoozedUntil = Date.parse(mine.find((a: any) => a.rule === 'rr-high').snoozedUntil)
    expect(snoozedUntil - Date.now()).toBeGreaterThan(29 * 60_000)
    const theirs = await h.login('colleague@example.org', colleague)
    const team = (
      await (await fetch(`${h.httpUrl}/api/alerts?status=open`, { headers: { cookie: theirs } })).json()
    ).alerts
    expect(team.find((a: any) => a.rule === 'rr-high').snoozedUntil).toBeUndefined()
    expect(violations).toEqual([])
  })
})
