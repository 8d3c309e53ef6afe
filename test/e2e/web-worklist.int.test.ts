import type { Page } from 'playwright-core'
import { expect } from 'vitest'
import { describeWeb, openPage, reading, signIn, WAIT, webTest } from '../helpers/browser.ts'

// The worklist's rows live in blocks of 25 (worklist.ts placeInBlocks): the browser skips the blocks off
// screen as a whole. Whatever the blocks, the rows must read as one list in rank order, to the eye and to a
// screen reader, and a patient who rises to the top keeps their row element. (Rows never move while the
// user works in the worklist: the rise waits for "Show new order", which puts focus on the first row.)

const N = 60
const ids = Array.from({ length: N }, (_, i) => `p${String(i + 1).padStart(2, '0')}`)
const it = webTest(Object.fromEntries(ids.map((id) => [id, `Patient ${id.slice(1)}`])))

/** The body rows in document order, and how many rows each block holds. */
const layout = (page: Page) =>
  page.evaluate(() => ({
    rows: [...document.querySelectorAll('#worklist .wl-body .wl-row')].map(
      (r) => (r as HTMLElement).dataset.patient,
    ),
    blocks: [...document.querySelectorAll('#worklist .wl-body > .wl-block')].map((b) => b.children.length),
  }))

/**
 * Chromium's own accessibility tree: the rows a screen reader finds in the worklist table, in order (the
 * header row first).
 */
async function axRows(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page)
  const { nodes } = (await cdp.send('Accessibility.getFullAXTree')) as { nodes: any[] }
  await cdp.detach()
  const byId = new Map(nodes.map((n) => [n.nodeId, n]))
  const table = nodes.find((n) => n.role?.value === 'table' && n.name?.value === 'Worklist')
  const rows: string[] = []
  // A row is named by its first header cell (the patient, or "Patient" for the header row).
  const header = (n: any): string => {
    for (const id of n.childIds ?? []) {
      const c = byId.get(id)
      if (['rowheader', 'columnheader'].includes(c?.role?.value)) return c.name?.value ?? ''
      const inner = c?.ignored ? header(c) : ''
      if (inner) return inner
    }
    return ''
  }
  // Ignored nodes (generic containers such as the blocks) are passed through, as assistive technology does.
  const walk = (n: any, inRowgroup: boolean) => {
    for (const id of n.childIds ?? []) {
      const c = byId.get(id)
      if (!c) continue
      const role = c.ignored ? 'ignored' : c.role?.value
      if (role === 'row' && inRowgroup) rows.push(header(c))
      else if (role === 'rowgroup' || role === 'ignored' || role === 'generic' || role === 'none')
        walk(c, inRowgroup || role === 'rowgroup')
    }
  }
  walk(table, false)
  return rows
}

describeWeb('web UI worklist order', () => {
  it('keeps one list in rank order across blocks, to the eye and to a screen reader, when a patient rises to the top', async ({
    browser,
    h,
  }) => {
    const creds = await h.enrollDevice('hr-55', 'p55')
    const password = await h.addUser('coord@example.org', 'coordinator', ids)
    const device = await h.connectDevice('hr-55', creds)
    const { page, consoleErrors, violations } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await expect.poll(async () => (await layout(page)).rows.length, WAIT).toBe(N)
    // Nobody has data yet: all stale, then by name.
    expect(await layout(page)).toEqual({ rows: ids, blocks: [25, 25, 10] })
    const before = await axRows(page)
    expect(before.length).toBe(N + 1)
    expect([before[0], before[1], before[N]]).toEqual([
      'Patient',
      expect.stringContaining('Patient 01'),
      expect.stringContaining('Patient 60'),
    ])

    // Patient 55 (in the last block) gets a high heart rate: an open alert puts them first. While the
    // keyboard focus is in the worklist the order is paused (rows do not move under the user) and a line
    // says so; "Show new order" applies it, and the risen row keeps its element (and here the focus).
    const link = page.locator('.wl-row[data-patient="p55"] a[data-focus-key="open"]')
    // Keyboard focus (a key pressed first: only keyboard focus pauses the order, not a mouse click's).
    await page.keyboard.press('Tab')
    await link.focus()
    await page.evaluate(() => {
      ;(window as any).__p55 = document.querySelector('.wl-row[data-patient="p55"]')
    })
    await device.publishAsync('rpm/v1/devices/hr-55/readings', reading('r-1', 'heart-rate', { value: 150 }), {
      qos: 1,
    })
    await expect
      .poll(() => page.locator('.wl-paused').textContent(), WAIT)
      .toContain('Order paused while you work — 1 patient changed rank.')
    expect((await layout(page)).rows).toEqual(ids)
    await page.getByRole('button', { name: 'Show new order' }).focus()
    await page.keyboard.press('Enter')
    const risen = ['p55', ...ids.filter((id) => id !== 'p55')]
    await expect.poll(async () => (await layout(page)).rows, WAIT).toEqual(risen)
    expect((await layout(page)).blocks).toEqual([25, 25, 10])
    expect(
      await page.evaluate(() => {
        const row = document.querySelector('.wl-row[data-patient="p55"]')
        return { same: (window as any).__p55 === row, focused: document.activeElement?.textContent }
      }),
    ).toEqual({ same: true, focused: 'Patient 55' })
    const ax = await axRows(page)
    expect(ax.length).toBe(N + 1)
    expect(ax[1]).toContain('Patient 55')
    expect(ax[2]).toContain('Patient 01')
    expect(ax[N]).toContain('Patient 60')
    expect(consoleErrors).toEqual([])
    expect(violations).toEqual([])
  })
})
