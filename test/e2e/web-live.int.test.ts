import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import { describeWeb, openPage, reading, signIn, text, WAIT, webTest } from '../helpers/browser.ts'

// Under a stream of updates nothing moves unless someone's attention changed, and nothing the user is
// doing is undone: the row a reading changes is patched in place (same element, focus kept, no layout
// shift), and an alert that keeps firing keeps its place in the feed and the snooze duration being chosen.
// (Its message may still grow by a line: the server's text embeds the count and the time, see
// docs/dashboard.md.)

const it = webTest({ p1: 'Ada Lovelace', p2: 'Grace Hopper' })

/** Layout shifts from here on (PerformanceObserver 'layout-shift'), with what moved. */
async function watchShifts(page: Page) {
  await page.evaluate(() => {
    const w = window as any
    w.__shifts = []
    new PerformanceObserver((l) => {
      for (const e of l.getEntries() as any[])
        w.__shifts.push(e.sources.map((s: any) => s.node?.className ?? s.node?.nodeName).join(', '))
    }).observe({ type: 'layout-shift' })
  })
}

describeWeb('web UI under a stream of updates', () => {
  it('patches the row a reading changes in place: same element, focus kept, nothing shifts', async ({
    browser,
    h,
  }) => {
    const creds = await h.enrollDevice('hr-1', 'p1')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1', 'p2'])
    const device = await h.connectDevice('hr-1', creds)
    // A first reading before watching: from "no data yet" to fresh data is a change of rank (p1 may move).
    await device.publishAsync('rpm/v1/devices/hr-1/readings', reading('s-0', 'heart-rate', { value: 59 }), {
      qos: 1,
    })
    const { page, consoleErrors } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await expect
      .poll(() => text(page, '.wl-row[data-patient="p1"] [data-type="heart-rate"] .val'), WAIT)
      .toBe('59 /min')
    const link = page.locator('.wl-row[data-patient="p1"] a[data-focus-key="open"]')
    await link.focus()
    await page.evaluate(() => {
      ;(window as any).__p1 = document.querySelector('.wl-row[data-patient="p1"]')
    })
    await watchShifts(page)
    for (let i = 0; i < 30; i++)
      await device.publishAsync(
        'rpm/v1/devices/hr-1/readings',
        reading(`s-${i + 1}`, 'heart-rate', { value: 60 + i }),
        { qos: 1 },
      )
    await expect
      .poll(() => text(page, '.wl-row[data-patient="p1"] [data-type="heart-rate"] .val'), WAIT)
      .toBe('89 /min')
    const after = await page.evaluate(() => {
      const row = document.querySelector('.wl-row[data-patient="p1"]')
      return {
        sameRow: (window as any).__p1 === row,
        focusInRow: !!row?.contains(document.activeElement),
        focusedText: document.activeElement?.textContent,
        shifts: (window as any).__shifts as string[],
      }
    })
    expect(after).toEqual({ sameRow: true, focusInRow: true, focusedText: 'Ada Lovelace', shifts: [] })
    expect(consoleErrors).toEqual([])
  })

  it('keeps an alert that keeps firing in its place, with the snooze duration being chosen', async ({
    browser,
    h,
  }) => {
    const c1 = await h.enrollDevice('hr-1', 'p1')
    const c2 = await h.enrollDevice('hr-2', 'p2')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1', 'p2'])
    const d1 = await h.connectDevice('hr-1', c1)
    const d2 = await h.connectDevice('hr-2', c2)
    const { page } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    // Ada's alert opens first, Grace's second: the newest opened is on top. (A heart rate of 150 also opens
    // a NEWS2 alert of medium severity: the high ones are the heart-rate alerts.)
    await d1.publishAsync('rpm/v1/devices/hr-1/readings', reading('a-0', 'heart-rate', { value: 150 }), {
      qos: 1,
    })
    await page.locator('li.alert.sev-high', { hasText: 'Ada Lovelace' }).waitFor()
    await d2.publishAsync('rpm/v1/devices/hr-2/readings', reading('b-0', 'heart-rate', { value: 150 }), {
      qos: 1,
    })
    await page.locator('li.alert.sev-high', { hasText: 'Grace Hopper' }).waitFor()
    const feed = () =>
      page.evaluate(() =>
        [...document.querySelectorAll('li.alert.sev-high .who a')].map((a) => a.textContent ?? ''),
      )
    expect(await feed()).toEqual(['Grace Hopper', 'Ada Lovelace'])
    const ada = page.locator('li.alert.sev-high', { hasText: 'Ada Lovelace' })
    await ada.getByLabel(/Snooze duration/).selectOption('60')
    await page.evaluate(() => {
      ;(window as any).__ada = [...document.querySelectorAll('li.alert.sev-high')].find((li) =>
        li.textContent?.includes('Ada Lovelace'),
      )
    })

    for (let i = 1; i <= 3; i++)
      await d1.publishAsync(
        'rpm/v1/devices/hr-1/readings',
        reading(`a-${i}`, 'heart-rate', { value: 150 + i }),
        { qos: 1 },
      )
    await expect.poll(() => ada.locator('.when').textContent(), WAIT).toContain('4 readings')
    expect(await feed()).toEqual(['Grace Hopper', 'Ada Lovelace'])
    expect(await ada.getByLabel(/Snooze duration/).inputValue()).toBe('60')
    expect(
      await page.evaluate(() =>
        [...document.querySelectorAll('li.alert')].includes((window as any).__ada as Element),
      ),
    ).toBe(true)
  })

  it('brings back and announces a snoozed alert that turns critical', async ({ browser, h }) => {
    const creds = await h.enrollDevice('ox-1', 'p1')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    const device = await h.connectDevice('ox-1', creds)
    const { page, consoleErrors } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await device.publishAsync(
      'rpm/v1/devices/ox-1/readings',
      reading('o-1', 'spo2', { value: 88, unit: '%' }),
      {
        qos: 1,
      },
    )
    const high = page.locator('li.alert.sev-high', { hasText: 'spo2-low' })
    await high.waitFor()
    await high.getByLabel(/Snooze duration/).selectOption('60')
    await high.getByRole('button', { name: 'Snooze for me' }).click()
    await expect
      .poll(() => text(page, '.snoozed-note'), WAIT)
      .toBe('1 snoozed by you (still visible to your team).')

    await device.publishAsync(
      'rpm/v1/devices/ox-1/readings',
      reading('o-2', 'spo2', { value: 80, unit: '%' }),
      {
        qos: 1,
      },
    )
    // Worse is news for everyone, the person who snoozed it too: back in the feed, announced.
    await page.locator('li.alert.sev-critical', { hasText: 'spo2-low' }).waitFor()
    await expect.poll(() => text(page, '#announce'), WAIT).toMatch(/Critical alert for Ada Lovelace/)
    await expect.poll(() => text(page, '.snoozed-note'), WAIT).toBe('')
    expect(consoleErrors).toEqual([])
  })
})
