import path from 'node:path'
import { expect } from 'vitest'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'
import { describeWeb, openPage, reading, signIn, text, WAIT, webTest } from '../helpers/browser.ts'

// What a coordinator must not miss, in Debian Chromium against a real server: an acknowledged critical
// alert is still critical on the worklist, an escalated one says so, the worklist follows care-team
// changes without a reload, and an action that fails says so.

const it = webTest({ p1: 'Ada Lovelace', p2: 'Grace Hopper' })

describeWeb('web UI: what a coordinator must not miss', () => {
  it('keeps an acknowledged critical visible as critical, and shows an escalated one as escalated', async ({
    browser,
    h,
  }) => {
    const creds = await h.enrollDevice('ox-1', 'p1')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1', 'p2'])
    const device = await h.connectDevice('ox-1', creds)
    await device.publishAsync(
      'rpm/v1/devices/ox-1/readings',
      reading('o-1', 'spo2', { value: 80, unit: '%' }),
      {
        qos: 1,
      },
    )
    // The server escalates an unacknowledged critical alert after 15 minutes: here, marked so directly.
    const s = openEmbeddedStorage({
      dataDir: h.dataDir,
      dbPath: path.join(h.dataDir, 'vitalwire.db'),
      outbox: false,
    })
    const live = (await s.alerts.live('p1', 'spo2-low'))!
    await s.alerts.update({ ...live, escalated: true })
    s.close()

    const { page, consoleErrors } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    const item = page.locator('li.alert.sev-critical', { hasText: 'spo2-low' })
    await expect.poll(() => item.locator('.status').textContent(), WAIT).toBe(' Open — ESCALATED')
    await item.getByRole('button', { name: 'Acknowledge' }).click()
    await expect
      .poll(() => item.locator('.status').getAttribute('title'), WAIT)
      .toBe('Acknowledged by coord@example.org')
    // Before, the row's only badge came from open alerts: an acknowledged critical showed as nothing
    // (or as the LOW of a battery alert). It is still critical.
    await expect
      .poll(() => text(page, '.wl-row[data-patient="p1"] .c-attn'), WAIT)
      .toMatch(/CRITICAL 1 acknowledged/)
    expect(consoleErrors).toEqual([])
  })

  it('follows care-team changes without a reload', async ({ browser, h }) => {
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    const admin = await h.login('admin@example.org', await h.addUser('admin@example.org', 'admin'))
    const { page } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await page.locator('.wl-row[data-patient="p1"]').waitFor()
    const users = (await (await fetch(`${h.httpUrl}/api/users`, { headers: { cookie: admin } })).json()).users
    const id = users.find((u: { email: string }) => u.email === 'coord@example.org').id
    const team = (patients: string[]) =>
      fetch(`${h.httpUrl}/api/users/${id}/patients`, {
        method: 'PUT',
        headers: { cookie: admin, 'content-type': 'application/json' },
        body: JSON.stringify({ patients }),
      }).then((r) => expect(r.status).toBe(200))
    await team(['p1', 'p2'])
    await page.locator('.wl-row[data-patient="p2"]').waitFor()
    await team(['p2'])
    await page.locator('.wl-row[data-patient="p1"]').waitFor({ state: 'detached' })
    expect(await page.locator('.wl-row[data-patient]').count()).toBe(1)
  })

  it('says so when acknowledging fails, and leaves the alert as it was', async ({ browser, h }) => {
    const creds = await h.enrollDevice('hr-1', 'p1')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    const device = await h.connectDevice('hr-1', creds)
    await device.publishAsync('rpm/v1/devices/hr-1/readings', reading('h-1', 'heart-rate', { value: 150 }), {
      qos: 1,
    })
    const { page } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    const item = page.locator('li.alert.sev-high', { hasText: 'hr-high' })
    await item.waitFor()
    await device.endAsync()
    await h.close() // the server goes away
    await item.getByRole('button', { name: 'Acknowledge' }).click()
    await expect
      .poll(() => text(page, '.action-failed'), WAIT)
      .toMatch(/^Could not acknowledge the alert for Ada Lovelace: .*It is unchanged; try again\.$/)
    expect(await item.locator('.status').textContent()).toBe(' Open')
  })
})
