import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import { describeWeb, openPage, reading, signIn, text, WAIT, webTest } from '../helpers/browser.ts'

// Keyboard focus is never lost (WCAG 2.4.3 Focus Order, 3.2): after an admin action rebuilds a list, a live
// update rebuilds it, or the patient page redraws, the focus is back on the same control (the same action
// in the same row), or, when that control is gone, on the next one of its kind or on the status message
// that says what happened; never on <body>, which would throw a keyboard or screen-reader user back to
// the top of the page. Focus that was elsewhere is never moved. Keyboard only: Tab, Enter, Space, Escape.

/** Press Tab until the focused element matches `selector`; fail after `max` presses. */
async function tabTo(page: Page, selector: string, max = 80) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab')
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return
  }
  throw new Error(`Tab never reached ${selector}`)
}

/** The focused element, in words: its accessible label, id or text (and "BODY" when focus is lost). */
const focused = (page: Page) =>
  page.evaluate(() => {
    const a = document.activeElement as HTMLElement | null
    if (!a || a === document.body) return 'BODY'
    return a.getAttribute('aria-label') ?? (a.id ? `#${a.id}` : (a.textContent ?? a.tagName).trim())
  })

/** Mark the focused element, to tell later whether focus is on the same element or a rebuilt copy. */
const tagFocused = (page: Page) =>
  page.evaluate(() => {
    ;(document.activeElement as any).__vwTagged = true
  })
const focusedIsTagged = (page: Page) =>
  page.evaluate(() => (document.activeElement as any)?.__vwTagged === true)

/** Run `action` and wait for the patient page to redraw (at most every 2 s after a live update). */
async function redraw(page: Page, action: () => Promise<unknown>) {
  await page.evaluate(() => {
    ;(document.getElementById('patient-title') as any).__old = true
  })
  await action()
  await expect
    .poll(() => page.evaluate(() => (document.getElementById('patient-title') as any)?.__old), WAIT)
    .toBe(undefined)
}

const it = webTest({ p1: 'Ada Lovelace' })

async function asAdmin(page: Page, h: { addUser: (e: string, r: 'admin') => Promise<string> }) {
  const password = await h.addUser('admin@example.org', 'admin')
  await signIn(page, 'admin@example.org', password)
  return password
}

describeWeb('web UI focus is kept across rebuilds', () => {
  it('patients: pausing (after its confirmation) and resuming keep focus on that patient’s button', async ({
    browser,
    h,
  }) => {
    await h.enrollPatient('p2', { name: 'Grace Hopper' })
    const { page, consoleErrors } = await openPage(browser, h.httpUrl)
    await asAdmin(page, h)
    await page.getByRole('link', { name: 'Patients' }).click()
    await page.locator('tr[data-patient="p2"]').waitFor()
    await tabTo(page, 'button[aria-label="Pause monitoring for Grace Hopper"]')
    await page.keyboard.press('Enter')
    await page.getByRole('alertdialog').waitFor()
    expect(await focused(page)).toBe('Pause monitoring')
    await page.keyboard.press('Enter')
    await expect.poll(() => text(page, 'tr[data-patient="p2"]'), WAIT).toContain('paused')
    await expect.poll(() => focused(page), WAIT).toBe('Resume monitoring for Grace Hopper')
    // Resuming asks nothing: the same button, now "Pause" again, keeps the focus.
    await page.keyboard.press('Enter')
    await expect.poll(() => text(page, 'tr[data-patient="p2"]'), WAIT).toContain('active')
    await expect.poll(() => focused(page), WAIT).toBe('Pause monitoring for Grace Hopper')
    // The other row was never touched, and Tab goes on from here, in the table.
    await page.keyboard.press('Shift+Tab')
    expect(await focused(page)).toBe('Pause monitoring for Ada Lovelace')
    expect(consoleErrors).toEqual([])
  })

  it('devices: revoking moves focus to the next Revoke button, and after the last to the status message', async ({
    browser,
    h,
  }) => {
    await h.enrollDevice('cuff-1', 'p1')
    await h.enrollDevice('cuff-2', 'p1')
    const { page, consoleErrors } = await openPage(browser, h.httpUrl)
    await asAdmin(page, h)
    await page.getByRole('link', { name: 'Devices' }).click()
    await page.locator('tr[data-device="cuff-2"]').waitFor()
    await tabTo(page, 'button[aria-label="Revoke device cuff-1"]')
    await page.keyboard.press('Enter')
    await page.getByRole('alertdialog').waitFor()
    await page.keyboard.press('Enter')
    await expect.poll(() => text(page, 'tr[data-device="cuff-1"]'), WAIT).toContain('revoked')
    // Its button is gone (a revoked device cannot be revoked again): the next one of its kind.
    await expect.poll(() => focused(page), WAIT).toBe('Revoke device cuff-2')
    await page.keyboard.press('Enter')
    await page.getByRole('alertdialog').waitFor()
    await page.keyboard.press('Enter')
    await expect.poll(() => text(page, 'tr[data-device="cuff-2"]'), WAIT).toContain('revoked')
    // None left: the message that says what happened.
    await expect.poll(() => focused(page), WAIT).toBe('#admin-status')
    expect(await text(page, '#admin-status')).toBe('Device cuff-2 revoked.')
    expect(consoleErrors).toEqual([])
  })

  it('devices: a live connection update keeps focus on the Revoke button, and under an open dialog', async ({
    browser,
    h,
  }) => {
    const one = await h.enrollDevice('cuff-1', 'p1')
    const two = await h.enrollDevice('cuff-2', 'p1')
    const { page, consoleErrors } = await openPage(browser, h.httpUrl)
    await asAdmin(page, h)
    await page.getByRole('link', { name: 'Devices' }).click()
    await page.locator('tr[data-device="cuff-2"]').waitFor()
    await tabTo(page, 'button[aria-label="Revoke device cuff-1"]')
    await tagFocused(page)
    // Another device connects: the list reloads (live) under the focus.
    await h.connectDevice('cuff-2', two)
    await expect.poll(() => text(page, 'tr[data-device="cuff-2"]'), WAIT).toContain('connected')
    expect(await focused(page)).toBe('Revoke device cuff-1')
    // Its row did not change, so it was not rebuilt: the very same element, nothing re-announced.
    expect(await focusedIsTagged(page)).toBe(true)
    // Its own row changes (it connects) while its revoke dialog is open; Escape gives focus back to the
    // Revoke button of that row, rebuilt meanwhile.
    await page.keyboard.press('Enter')
    await page.getByRole('alertdialog').waitFor()
    await h.connectDevice('cuff-1', one)
    await expect.poll(() => text(page, 'tr[data-device="cuff-1"]'), WAIT).toContain('connected')
    await page.keyboard.press('Escape')
    await expect.poll(() => focused(page), WAIT).toBe('Revoke device cuff-1')
    // Focus elsewhere stays where it is when the list reloads.
    await tabTo(page, '#nd-id')
    const device = await h.connectDevice('cuff-3', await h.enrollDevice('cuff-3', 'p1'))
    await expect.poll(() => text(page, 'tr[data-device="cuff-3"]'), WAIT).toContain('connected')
    expect(await focused(page)).toBe('#nd-id')
    await device.endAsync()
    expect(consoleErrors).toEqual([])
  })

  it('users: saving a care team keeps focus on that user’s button; a new patient keeps it in the form', async ({
    browser,
    h,
  }) => {
    await h.addUser('nurse@example.org', 'coordinator', ['p1'])
    const { page, consoleErrors } = await openPage(browser, h.httpUrl)
    const password = await asAdmin(page, h)
    await page.getByRole('link', { name: 'Users' }).click()
    await page.locator('tr[data-user="nurse@example.org"]').waitFor()
    await tabTo(page, 'button[aria-label="Edit care team of nurse@example.org"]')
    await page.keyboard.press('Enter')
    await page.getByRole('dialog').waitFor()
    // The first checkbox (Ada Lovelace, checked) has the focus: uncheck it, save.
    await page.keyboard.press('Space')
    await tabTo(page, 'dialog button[type="submit"]')
    await page.keyboard.press('Enter')
    await expect.poll(() => text(page, 'tr[data-user="nurse@example.org"]'), WAIT).toContain('none')
    await expect.poll(() => focused(page), WAIT).toBe('Edit care team of nurse@example.org')

    // Adding a user, on a care-team checkbox of the form.
    await tabTo(page, '#nu-email')
    await page.keyboard.type('second@example.org')
    await tabTo(page, '#nu-p-p1')
    await page.keyboard.press('Space')
    // Another admin adds a patient meanwhile: the care-team checkboxes are rebuilt under the focus.
    const cookie = await h.login('admin@example.org', password)
    const res = await fetch(`${h.httpUrl}/api/patients`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'p2', name: 'Grace Hopper' }),
    })
    expect(res.status).toBe(201)
    await page.locator('#nu-p-p2').waitFor()
    expect(await focused(page)).toBe('#nu-p-p1')
    expect(await page.locator('#nu-p-p1').isChecked()).toBe(true)
    // Adding it: the one-time password panel takes the focus, and after it the form's first field.
    await page.keyboard.press('Enter')
    await page.locator('#once-secret').waitFor()
    expect(await focused(page)).toBe('#copy-secret')
    await tabTo(page, '.once button:not(#copy-secret)')
    await page.keyboard.press('Enter')
    expect(await focused(page)).toBe('#nu-email')
    await expect.poll(() => text(page, 'tr[data-user="second@example.org"]'), WAIT).toContain('Ada Lovelace')
    expect(consoleErrors).toEqual([])
  })

  it('patient page: a live redraw keeps focus on the same link or button; focus elsewhere stays', async ({
    browser,
    h,
  }) => {
    const creds = await h.enrollDevice('hr-1', 'p1')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    const device = await h.connectDevice('hr-1', creds)
    const publish = (id: string, value: number) =>
      device.publishAsync('rpm/v1/devices/hr-1/readings', reading(id, 'heart-rate', { value }), { qos: 1 })
    await publish('r-1', 70)
    const { page, consoleErrors } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await page.locator('.wl-row[data-patient="p1"] a').waitFor()
    // Signed in: the sign-in form is gone, and the new page's content has the focus.
    expect(await focused(page)).toBe('#main')
    await tabTo(page, '.wl-row[data-patient="p1"] a')
    await page.keyboard.press('Enter')
    await expect.poll(() => text(page, '#patient-title'), WAIT).toBe('Ada Lovelace')
    const redrawn = (id: string, value: number) => redraw(page, () => publish(id, value))
    await tabTo(page, 'main a[href="#/"]')
    await redrawn('r-2', 72)
    expect(await focused(page)).toBe('← Worklist')
    await tabTo(page, 'button[data-focus-key="range:month"]')
    await page.keyboard.press('Enter')
    await redrawn('r-3', 74)
    expect(await focused(page)).toBe('Month')
    // Focus outside the page's content (the header's unit choice) is not moved by a redraw.
    await page.locator('#unit-glucose').focus()
    await redrawn('r-4', 76)
    expect(await focused(page)).toBe('Glucose unit')
    // Following the page's own link back to the worklist: the worklist's content has the focus.
    await tabTo(page, 'main a[href="#/"]')
    await page.keyboard.press('Enter')
    await page.locator('.wl-row[data-patient="p1"]').waitFor()
    expect(await focused(page)).toBe('#main')
    // A header link keeps it.
    await tabTo(page, '#nav a[href="#/"]')
    await page.keyboard.press('Enter')
    expect(await focused(page)).toBe('Worklist')
    expect(consoleErrors).toEqual([])
  })

  it('critical banner: an alert update keeps focus on Acknowledge; acknowledging moves it to what follows', async ({
    browser,
    h,
  }) => {
    await h.enrollPatient('p2', { name: 'Grace Hopper' })
    const a = await h.enrollDevice('ox-1', 'p1')
    const b = await h.enrollDevice('ox-2', 'p2')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1', 'p2'])
    const one = await h.connectDevice('ox-1', a)
    const two = await h.connectDevice('ox-2', b)
    await one.publishAsync('rpm/v1/devices/ox-1/readings', reading('o-1', 'spo2', { value: 80, unit: '%' }), {
      qos: 1,
    })
    const { page, consoleErrors } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await page.locator('#critical:not([hidden]) button.ack').waitFor()
    await page.locator('.wl-row[data-patient="p1"] a').waitFor()
    await tabTo(page, '.wl-row[data-patient="p1"] a')
    await page.keyboard.press('Enter')
    await expect.poll(() => text(page, '#patient-title'), WAIT).toBe('Ada Lovelace')
    const shownBefore = await text(page, '#critical .msg')
    await tabTo(page, '#critical button.ack', 120)
    // Other alerts, not critical (hr-high, and NEWS2 6: high): the banner would show the same, so it is
    // not redrawn at all; the very same button keeps the focus, and nothing is announced again.
    await tagFocused(page)
    await redraw(page, () =>
      one.publishAsync('rpm/v1/devices/ox-1/readings', reading('h-1', 'heart-rate', { value: 150 }), {
        qos: 1,
      }),
    )
    await expect.poll(() => text(page, 'table.history'), WAIT).toContain('hr-high')
    expect(await focused(page)).toBe('Acknowledge the critical alert for Ada Lovelace')
    expect(await focusedIsTagged(page)).toBe(true)
    // The same alert again: its message (the reading's time) changes, so the banner is redrawn, and the
    // patient page too; its Acknowledge button keeps the focus.
    await redraw(page, () =>
      one.publishAsync('rpm/v1/devices/ox-1/readings', reading('o-2', 'spo2', { value: 80, unit: '%' }), {
        qos: 1,
      }),
    )
    await expect.poll(() => text(page, '#critical .msg'), WAIT).not.toBe(shownBefore)
    expect(await focused(page)).toBe('Acknowledge the critical alert for Ada Lovelace')
    // A newer critical alert takes the banner's place. Focus must not stay on an Acknowledge button that
    // now acknowledges another alert (one keypress from the wrong one): the banner itself gets it, and
    // says which alert it now shows.
    await two.publishAsync('rpm/v1/devices/ox-2/readings', reading('o-3', 'spo2', { value: 80, unit: '%' }), {
      qos: 1,
    })
    await expect.poll(() => text(page, '#critical'), WAIT).toContain('CRITICAL ALERTS (2)')
    await expect.poll(() => focused(page), WAIT).toBe('#critical')
    await tabTo(page, '#critical button.ack')
    expect(await focused(page)).toBe('Acknowledge the critical alert for Grace Hopper')
    await page.keyboard.press('Enter')
    await expect.poll(() => text(page, '#critical .msg'), WAIT).toContain('Ada Lovelace')
    expect(await focused(page)).toBe('#critical')
    await tabTo(page, '#critical button.ack')
    await page.keyboard.press('Enter')
    // None left: the calm line, "No unacknowledged critical alerts", has the focus.
    await expect.poll(() => page.locator('#critical').isHidden(), WAIT).toBe(true)
    expect(await focused(page)).toBe('#critical-calm')
    expect(consoleErrors).toEqual([])
  })
})
