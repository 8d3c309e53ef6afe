import type { Browser, Page } from 'playwright-core'
import { expect } from 'vitest'
import { describeWeb, openPage, reading, signIn, text, visible, WAIT, webTest } from '../helpers/browser.ts'
import type { Harness } from '../helpers/harness.ts'

// "Freeze while the user is engaged" (dashboard/web/src/freeze.ts): while the pointer is over the alert
// feed or the worklist, or the keyboard focus is in it, nothing there moves under the user: new alerts wait
// behind a "N new alerts — show" control in a reserved slot, the worklist keeps its order with a line
// saying it is paused, and updates to what is shown apply in place. Leaving (or the control) applies what
// waited, and the page is then exactly what it would have been without the freeze. The critical banner
// appears at once, frozen or not, and moves nothing. Alerts come from real TLS MQTT publishes.

const it = webTest({ p1: 'Ada Lovelace', p2: 'Grace Hopper', p3: 'Mary Somerville', p4: 'Emmy Noether' })

type Device = Awaited<ReturnType<Harness['connectDevice']>>

async function setup(h: Harness) {
  const password = await h.addUser('coord@example.org', 'coordinator', ['p1', 'p2', 'p3', 'p4'])
  const devices: Record<string, Device> = {}
  for (const p of ['p1', 'p2', 'p3', 'p4'])
    devices[p] = await h.connectDevice(`hr-${p}`, await h.enrollDevice(`hr-${p}`, p))
  let n = 0
  const send = (p: string, type: string, value: number) =>
    devices[p].publishAsync(`rpm/v1/devices/hr-${p}/readings`, reading(`r-${n++}`, type, { value }), {
      qos: 1,
    })
  return { password, send }
}

/** Alert ids in the feed, in DOM order ("(gone)" marks a slot kept for an alert that left). */
const feedKeys = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('li.alert')].map(
      (li) => `${li.dataset.alert}${li.classList.contains('gone') ? '(gone)' : ''}`,
    ),
  )

/** Where each feed item and worklist row is on the page (the y of its top edge). */
const positions = (page: Page) =>
  page.evaluate(() =>
    Object.fromEntries(
      [...document.querySelectorAll<HTMLElement>('li.alert, .wl-body .wl-row')].map((el) => [
        el.dataset.alert ?? el.dataset.patient,
        el.getBoundingClientRect().top + window.scrollY,
      ]),
    ),
  )

const rows = (page: Page) =>
  page.evaluate(() =>
    [...document.querySelectorAll<HTMLElement>('.wl-body .wl-row')].map((r) => r.dataset.patient),
  )

/** What a person (or a screen reader) gets from the feed and the worklist, minus the clock ("12s ago"). */
const snapshot = (page: Page) =>
  page.evaluate(() => ({
    title: document.getElementById('feed-title')?.textContent,
    pending: (document.getElementById('feed-pending') as HTMLElement).hidden,
    feed: [...document.querySelectorAll<HTMLElement>('li.alert')].map((li) => {
      const c = li.cloneNode(true) as HTMLElement
      for (const t of c.querySelectorAll('time')) t.remove()
      return `${li.dataset.alert} ${li.className} ${c.textContent}`
    }),
    worklist: [...document.querySelectorAll<HTMLElement>('.wl-body .wl-row')].map((r) => {
      const c = r.cloneNode(true) as HTMLElement
      for (const t of c.querySelectorAll('time')) t.remove()
      return `${r.className} ${c.textContent}`
    }),
    paused: document.querySelector('.wl-paused')?.textContent,
  }))

/** The pointer rests on the page header: over neither the feed nor the worklist. */
const pointerAway = (page: Page) => page.mouse.move(5, 5)

async function tabTo(page: Page, selector: string, key = 'Tab', max = 60) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(key)
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return
  }
  throw new Error(`${key} never reached ${selector}`)
}

async function signedIn(browser: Browser, h: Harness, password: string) {
  const watched = await openPage(browser, h.httpUrl)
  await signIn(watched.page, 'coord@example.org', password)
  await watched.page.locator('.wl-row[data-patient="p4"]').waitFor()
  await pointerAway(watched.page)
  return watched
}

/** Signed in with Ada's two alerts in the feed (hr-high, high; NEWS2, medium), their ids in feed order. */
async function withAdasAlerts(browser: Browser, h: Harness) {
  const { password, send } = await setup(h)
  const watched = await signedIn(browser, h, password)
  await send('p1', 'heart-rate', 150)
  await expect.poll(() => watched.page.locator('li.alert').count(), WAIT).toBe(2)
  return { ...watched, send, first: await feedKeys(watched.page) }
}

describeWeb('web UI frozen while the user works in it', () => {
  it('holds new alerts behind "N new alerts — show" while the pointer is over the feed; the control or leaving shows them', async ({
    browser,
    h,
  }) => {
    const { page, violations, consoleErrors, send, first } = await withAdasAlerts(browser, h)
    // The pointer on Ada's first alert, as if about to acknowledge it.
    await page.locator('li.alert').first().locator('.msg').hover()
    const before = await positions(page)

    await send('p2', 'heart-rate', 150)
    await expect.poll(() => text(page, '#feed-pending'), WAIT).toBe('2 new alerts — show')
    expect(await visible(page, '#feed-pending')).toBe(true)
    expect(await page.locator('#feed-pending').locator('..').getAttribute('role')).toBe('status')
    expect(await feedKeys(page)).toEqual(first)
    const during = await positions(page)
    for (const id of first) expect(during[id]).toBe(before[id])
    // Updates to what is shown still apply, in place: Ada's count goes up, nothing moves.
    await send('p1', 'heart-rate', 151)
    await expect
      .poll(() => page.locator('li.alert').first().locator('.when').textContent(), WAIT)
      .toContain('2 readings')
    expect((await positions(page))[first[0]]).toBe(before[first[0]])

    // The control shows them: Grace's newer alerts go above Ada's of the same severity.
    await page.locator('#feed-pending').click()
    await expect.poll(() => page.locator('li.alert').count(), WAIT).toBe(4)
    expect(await visible(page, '#feed-pending')).toBe(false)
    const grace = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('li.alert')]
        .filter((li) => li.textContent?.includes('Grace Hopper'))
        .map((li) => li.dataset.alert),
    )
    expect(await feedKeys(page)).toEqual([grace[0], first[0], grace[1], first[1]])

    // Still over the feed: the next ones wait again, until the pointer leaves.
    await send('p3', 'heart-rate', 150)
    await expect.poll(() => text(page, '#feed-pending'), WAIT).toBe('2 new alerts — show')
    expect(await page.locator('li.alert').count()).toBe(4)
    await pointerAway(page)
    await expect.poll(() => page.locator('li.alert').count(), WAIT).toBe(6)
    expect(await visible(page, '#feed-pending')).toBe(false)
    expect(violations).toEqual([])
    expect(consoleErrors).toEqual([])
  })

  it('freezes for keyboard focus in the feed too; the control is reachable by keyboard; the critical banner still appears at once and moves nothing', async ({
    browser,
    h,
  }) => {
    const { page, violations, consoleErrors, send, first } = await withAdasAlerts(browser, h)
    await tabTo(page, `li[data-alert="${first[0]}"] button[data-focus-key="ack"]`)
    const before = await positions(page)
    const mainTop = () => page.evaluate(() => document.getElementById('main')!.getBoundingClientRect().top)
    const top = await mainTop()
    expect(await visible(page, '#critical-calm')).toBe(true)

    // A critical SpO2 for Mary: the banner shows at once, the feed holds her alerts back.
    await send('p3', 'spo2', 82)
    await expect.poll(() => visible(page, '#critical'), WAIT).toBe(true)
    expect(await text(page, '#critical')).toMatch(/CRITICAL ALERT.*Mary Somerville/)
    await expect
      .poll(() => text(page, '#feed-pending'), WAIT)
      .toMatch(/^\d+ new alerts? \(1 critical\) — show$/)
    expect(await feedKeys(page)).toEqual(first)
    // The banner took the reserved slot: nothing below it moved (the page, the feed items).
    expect(await mainTop()).toBe(top)
    const during = await positions(page)
    for (const id of first) expect(during[id]).toBe(before[id])
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-focus-key'))).toBe('ack')

    // The control is in the tab order just above the items; Enter shows them and focuses the first.
    await tabTo(page, '#feed-pending', 'Shift+Tab')
    await page.keyboard.press('Enter')
    await expect.poll(() => feedKeys(page), WAIT).not.toEqual(first)
    const now = await feedKeys(page)
    expect(await page.evaluate(() => document.activeElement?.textContent)).toContain('Mary Somerville')
    expect(await page.evaluate(() => document.activeElement?.classList.contains('sev-critical'))).toBe(true)
    expect(now.length).toBeGreaterThan(first.length)
    expect(now.filter((k) => first.includes(k))).toEqual(first)
    expect(violations).toEqual([])
    expect(consoleErrors).toEqual([])
  })

  it('shows a critical alert in view however far down the user has scrolled, moving nothing', async ({
    browser,
    h,
  }) => {
    const { password, send } = await setup(h)
    const { page } = await signedIn(browser, h, password)
    // A short window, scrolled to the bottom: the slot under the header is far above the viewport.
    await page.setViewportSize({ width: 1100, height: 320 })
    await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight))
    const scrolledBy = await page.evaluate(() => window.scrollY)
    expect(scrolledBy).toBeGreaterThan(100)
    const mainTop = () =>
      page.evaluate(() => document.getElementById('main')!.getBoundingClientRect().top + window.scrollY)
    const top = await mainTop()

    await send('p3', 'spo2', 82)
    await expect.poll(() => visible(page, '#critical'), WAIT).toBe(true)
    const box = await page.evaluate(() => {
      const r = document.getElementById('critical')!.getBoundingClientRect()
      return { top: r.top, bottom: r.bottom, viewport: window.innerHeight }
    })
    expect(box.top).toBeGreaterThanOrEqual(0)
    expect(box.bottom).toBeLessThanOrEqual(box.viewport)
    // Drawn over the top of the viewport: the page did not scroll and nothing below the slot moved.
    expect(await page.evaluate(() => window.scrollY)).toBe(scrolledBy)
    expect(await mainTop()).toBe(top)
  })

  it('keeps the worklist order while the pointer is over it, patching values in place, and reorders after it leaves', async ({
    browser,
    h,
  }) => {
    const { password, send } = await setup(h)
    const { page } = await signedIn(browser, h, password)
    const order = await rows(page)
    expect(order).toEqual(['p1', 'p4', 'p2', 'p3'])
    await page.locator('.wl-row[data-patient="p2"] .c-attn').hover()
    const before = await positions(page)

    // Emmy gets an alert: she would rise to the top.
    await send('p4', 'heart-rate', 150)
    await expect
      .poll(() => text(page, '.wl-row[data-patient="p4"] [data-type="heart-rate"] .val'), WAIT)
      .toBe('150 /min')
    await expect
      .poll(() => text(page, '.wl-paused'), WAIT)
      .toContain('Order paused while you work — 1 patient changed rank.')
    // The alert comes on its own message, after the reading that already changed her rank.
    await expect.poll(() => text(page, '.wl-row[data-patient="p4"] .c-attn'), WAIT).toContain('HIGH')
    expect(await rows(page)).toEqual(order)
    const during = await positions(page)
    for (const p of order) expect(during[p!]).toBe(before[p!])

    await pointerAway(page)
    await expect.poll(() => rows(page), WAIT).toEqual(['p4', 'p1', 'p2', 'p3'])
    expect(await text(page, '.wl-paused')).not.toContain('paused')
  })

  it('stops pausing the worklist order when the pointer has rested on it for 15 s without moving', async ({
    browser,
    h,
  }) => {
    const { password, send } = await setup(h)
    const watched = await openPage(browser, h.httpUrl)
    const page = watched.page
    // A clock the test can move forward; it runs in real time otherwise (WebSocket, frames, renders).
    await page.clock.install()
    await page.reload()
    await signIn(page, 'coord@example.org', password)
    await page.locator('.wl-row[data-patient="p4"]').waitFor()
    expect(await rows(page)).toEqual(['p1', 'p4', 'p2', 'p3'])
    await page.locator('.wl-row[data-patient="p2"] .c-attn').hover()

    await send('p4', 'heart-rate', 150)
    await expect.poll(() => text(page, '.wl-row[data-patient="p4"] .c-attn'), WAIT).toContain('HIGH')
    await expect.poll(() => text(page, '.wl-paused'), WAIT).toContain('Order paused while you work')
    expect(await rows(page)).toEqual(['p1', 'p4', 'p2', 'p3'])

    // The pointer rests where it was: 15 s later the order is no longer held back.
    await page.clock.fastForward(14_000)
    expect(await rows(page)).toEqual(['p1', 'p4', 'p2', 'p3'])
    await page.clock.fastForward(2_000)
    await expect.poll(() => rows(page), WAIT).toEqual(['p4', 'p1', 'p2', 'p3'])
    expect(await text(page, '.wl-paused')).not.toContain('paused')

    // Moving it again is working again: the next rank change waits.
    await page.mouse.move(300, (await page.locator('.wl-row[data-patient="p3"]').boundingBox())!.y + 5)
    await send('p3', 'heart-rate', 150)
    await expect.poll(() => text(page, '.wl-paused'), WAIT).toContain('Order paused while you work')
    expect((await rows(page))[0]).toBe('p4')
  })

  it('never drops an update: after the freeze the page equals one that was never frozen', async ({
    browser,
    h,
  }) => {
    const { password, send } = await setup(h)
    const colleague = await h.addUser('colleague@example.org', 'coordinator', ['p1', 'p2', 'p3', 'p4'])
    const frozen = await signedIn(browser, h, password)
    const plain = await signedIn(browser, h, password)
    const page = frozen.page
    await send('p1', 'heart-rate', 150)
    await send('p2', 'respiratory-rate', 28)
    // Ada: hr-high and NEWS2; Grace: rr-high and NEWS2.
    await expect.poll(() => page.locator('li.alert').count(), WAIT).toBe(4)
    await expect.poll(() => plain.page.locator('li.alert').count(), WAIT).toBe(4)
    // Frozen twice over: focus in the worklist, pointer over the feed.
    await tabTo(page, '.wl-row[data-patient="p3"] a')
    await page.locator('li.alert').last().locator('.msg').hover()
    const shown = await feedKeys(page)
    const before = await positions(page)

    // Meanwhile: new alerts (one critical), a colleague acknowledges one shown alert and resolves another,
    // and a reading. (Not a repeat of a shown alert: the server's message embeds the count and can grow
    // by a line, which moves the items below it; see docs/dashboard.md.)
    const cookie = await h.login('colleague@example.org', colleague)
    const post = (path: string) =>
      fetch(`${h.httpUrl}${path}`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: '{}',
      }).then((r) => expect(r.status).toBe(200))
    await send('p3', 'spo2', 82)
    await send('p4', 'heart-rate', 150)
    await post(`/api/alerts/${encodeURIComponent(shown[0])}/ack`)
    await post(`/api/alerts/${encodeURIComponent(shown[2])}/resolve`)
    await send('p2', 'heart-rate', 61)

    // The plain page settles with everything; the frozen one shows the same slots, updated in place.
    await expect.poll(() => plain.page.locator('li.alert').count(), WAIT).toBeGreaterThanOrEqual(6)
    await expect
      .poll(() => text(page, `li[data-alert="${shown[0]}"] .status`), WAIT)
      .toContain('Acknowledged')
    await expect.poll(() => text(page, `li[data-alert="${shown[2]}"] .status`), WAIT).toContain('Resolved')
    await expect.poll(() => text(page, '#feed-pending'), WAIT).toMatch(/\(1 critical\) — show$/)
    await expect.poll(() => text(page, '.wl-paused'), WAIT).toContain('changed rank')
    expect(await feedKeys(page)).toEqual([shown[0], shown[1], `${shown[2]}(gone)`, shown[3]])
    expect(await positions(page)).toEqual(before)
    expect(await visible(page, '#critical')).toBe(true)
    await expect
      .poll(() => text(page, '.wl-row[data-patient="p2"] [data-type="heart-rate"] .val'), WAIT)
      .toBe('61 /min')

    // Release both: pointer away, focus out of the worklist.
    await pointerAway(page)
    await page.locator('#sound').focus()
    await expect
      .poll(() => text(plain.page, '.wl-row[data-patient="p2"] [data-type="heart-rate"] .val'), WAIT)
      .toBe('61 /min')
    await expect.poll(() => snapshot(page), WAIT).toEqual(await snapshot(plain.page))
    const settled = await snapshot(page)
    expect(settled.pending).toBe(true)
    expect(settled.feed.some((f) => f.includes(' gone'))).toBe(false)
    expect(frozen.violations).toEqual([])
    expect(frozen.consoleErrors).toEqual([])
  })
})
