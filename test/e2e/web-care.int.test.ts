import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { expect } from 'vitest'
import { DEFAULT_RULES } from '../../alerts/default-rules.ts'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'
import { describeWeb, openPage, reading, signIn, text, WAIT, webTest } from '../helpers/browser.ts'
import { type Harness, tempDir } from '../helpers/harness.ts'

// What a coordinator must not miss, in Debian Chromium against a real server: an acknowledged critical
// alert is still critical on the worklist, an escalated one says so, the worklist follows care-team
// changes without a reload, and an action that fails says so.

const it = webTest({ p1: 'Ada Lovelace', p2: 'Grace Hopper' })

/** A coordinator of `patients` and a device of p1's, enrolled and connected; `publish` sends a reading. */
async function coordinatorWithDevice(h: Harness, deviceId: string, patients: string[]) {
  const creds = await h.enrollDevice(deviceId, 'p1')
  const password = await h.addUser('coord@example.org', 'coordinator', patients)
  const device = await h.connectDevice(deviceId, creds)
  const publish = (payload: string) =>
    device.publishAsync(`rpm/v1/devices/${deviceId}/readings`, payload, { qos: 1 })
  return { password, device, publish }
}

describeWeb('web UI: what a coordinator must not miss', () => {
  it('keeps an acknowledged critical visible as critical, and shows an escalated one as escalated', async ({
    browser,
    h,
  }) => {
    const { password, publish } = await coordinatorWithDevice(h, 'ox-1', ['p1', 'p2'])
    await publish(reading('o-1', 'spo2', { value: 80, unit: '%' }))
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
    // A name the column clips is whole on hover.
    expect(
      await page.locator('.wl-row[data-patient="p1"] a[data-focus-key="open"]').getAttribute('title'),
    ).toBe('Ada Lovelace')
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
    // On the patient's own page when the patient leaves the team: the page says so and shows nothing of
    // the patient any more (it used to stay until the next click).
    await page.evaluate(() => {
      location.hash = '#/patients/p2'
    })
    await expect.poll(() => text(page, '#patient-title'), WAIT).toBe('Grace Hopper')
    await team(['p1'])
    await expect
      .poll(() => text(page, 'main'), WAIT)
      .toContain('This patient is no longer in your care team.')
    expect(await text(page, 'main')).not.toContain('Grace Hopper')
  })

  it("shows the times in the server's notes in the viewer's zone, like the rest of the page", async ({
    browser,
    h,
  }) => {
    const { password, publish } = await coordinatorWithDevice(h, 'hr-1', ['p1'])
    await publish(reading('h-1', 'heart-rate', { value: 150 }))
    const context = await browser.newContext({ timezoneId: 'America/New_York' })
    try {
      const page = await context.newPage()
      await page.goto(h.httpUrl)
      await signIn(page, 'coord@example.org', password)
      await page.locator('li.alert.sev-high', { hasText: 'hr-high' }).waitFor()
      const { alerts } = await (await page.request.get(`${h.httpUrl}/api/alerts?status=open`)).json()
      const snooze = await page.request.post(`${h.httpUrl}/api/alerts/${alerts[0].id}/snooze`, {
        data: { minutes: 30 },
      })
      expect(snooze.status()).toBe(200)
      await page.evaluate(() => {
        location.hash = '#/patients/p1'
      })
      const last = 'table.history tbody tr td:last-child'
      await expect.poll(() => text(page, last), WAIT).toMatch(/^snoozed by coord@example\.org: “until /)
      // It read "until 2026-12-03T18:42:28.648Z" beside times in EST.
      expect(await text(page, last)).toMatch(/E[SD]T”$/)
      expect(await text(page, last)).not.toMatch(/\d{2}:\d{2}:\d{2}\.\d{3}Z/)
    } finally {
      await context.close()
    }
  })

  it('a resolve dialog: says when the patient left the team, keeps the note, and closes when the session ends', async ({
    browser,
    h,
  }) => {
    const { password, publish } = await coordinatorWithDevice(h, 'hr-1', ['p1'])
    await publish(reading('h-1', 'heart-rate', { value: 150 }))
    const admin = await h.login('admin@example.org', await h.addUser('admin@example.org', 'admin'))
    const { page } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    const item = page.locator('li.alert.sev-high', { hasText: 'hr-high' })
    await item.getByRole('button', { name: 'Resolve…' }).click()
    await page.locator('#resolve-note').fill('Called her; rate normal on recheck.')
    const users = (await (await fetch(`${h.httpUrl}/api/users`, { headers: { cookie: admin } })).json()).users
    const id = users.find((u: { email: string }) => u.email === 'coord@example.org').id
    const put = await fetch(`${h.httpUrl}/api/users/${id}/patients`, {
      method: 'PUT',
      headers: { cookie: admin, 'content-type': 'application/json' },
      body: JSON.stringify({ patients: [] }),
    })
    expect(put.status).toBe(200)
    await page.getByRole('button', { name: 'Resolve alert' }).click()
    // It said "alert <uuid> not found ... try again", which could never work.
    await expect
      .poll(() => text(page, 'dialog .error'), WAIT)
      .toBe('Ada Lovelace is no longer in your care team: nothing was changed.')
    expect(await page.locator('#resolve-note').inputValue()).toBe('Called her; rate normal on recheck.')
    // The session ends elsewhere (another tab signs out): the dialog, which names the patient, goes with
    // the rest of the page instead of staying over the sign-in form.
    const cookie = (await page.context().cookies()).map((c) => `${c.name}=${c.value}`).join('; ')
    expect((await fetch(`${h.httpUrl}/api/session`, { method: 'DELETE', headers: { cookie } })).status).toBe(
      204,
    )
    await page.getByLabel('Email').waitFor()
    expect(await page.locator('dialog').count()).toBe(0)
    expect(await text(page, 'body')).not.toContain('Ada Lovelace')
  })

  it('says so when acknowledging fails, and leaves the alert as it was', async ({ browser, h }) => {
    const { password, device, publish } = await coordinatorWithDevice(h, 'hr-1', ['p1'])
    await publish(reading('h-1', 'heart-rate', { value: 150 }))
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

  it('draws nothing of the session after signing out, even with a render pending', async ({ browser, h }) => {
    const { password, publish } = await coordinatorWithDevice(h, 'ox-1', ['p1'])
    await publish(reading('o-1', 'spo2', { value: 80, unit: '%' }))
    const { page, consoleErrors } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await page.locator('#critical:not([hidden])').waitFor()
    // A unit change schedules a render; signing out in the same task used to let it draw the banner
    // again over the sign-in page.
    await page.evaluate(() => {
      const unit = document.getElementById('unit-glucose') as HTMLSelectElement
      unit.value = unit.value === 'mg/dL' ? 'mmol/L' : 'mg/dL'
      unit.dispatchEvent(new Event('change'))
      document.getElementById('logout')!.click()
    })
    await page.getByLabel('Email').waitFor()
    await page.waitForTimeout(300)
    expect(await page.locator('#critical').isHidden()).toBe(true)
    expect(await page.title()).not.toMatch(/CRITICAL/)
    expect(consoleErrors).toEqual([])
  })

  it('skips to the content without leaving the page, and validates ids in the browser', async ({
    browser,
    h,
  }) => {
    const password = await h.addUser('admin@example.org', 'admin')
    const { page, consoleErrors } = await openPage(browser, h.httpUrl)
    await signIn(page, 'admin@example.org', password)
    await page.locator('.wl-row[data-patient="p1"]').waitFor()
    await page.locator('a.skip').focus()
    await page.keyboard.press('Enter')
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main')
    expect(await text(page, 'main')).not.toContain('No such page')
    expect(await page.locator('.wl-row[data-patient="p1"]').count()).toBe(1)
    // The id pattern compiles (it did not in Chromium's v-mode, so any id passed the browser's check).
    await page.goto(`${h.httpUrl}/#/admin/devices`)
    const id = page.locator('#nd-id')
    await id.fill('bad id!')
    expect(await id.evaluate((el) => (el as HTMLInputElement).validity.patternMismatch)).toBe(true)
    await id.fill('good-id.1')
    expect(await id.evaluate((el) => (el as HTMLInputElement).validity.patternMismatch)).toBe(false)
    expect(consoleErrors).toEqual([])
  })

  it('announces a critical alert that opened while the page was disconnected, once it is back', async ({
    browser,
    h,
  }) => {
    const { password, publish } = await coordinatorWithDevice(h, 'ox-1', ['p1'])
    // The page reaches the server through a TCP relay that the test can cut, as a network would.
    const target = new URL(h.httpUrl)
    const open = new Set<net.Socket>()
    let up = true
    const relay = net.createServer((client) => {
      if (!up) return void client.destroy()
      const server = net.connect(Number(target.port), target.hostname)
      for (const s of [client, server]) {
        open.add(s)
        s.on('close', () => open.delete(s))
        s.on('error', () => {})
      }
      client.pipe(server).pipe(client)
    })
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r))
    try {
      const { page } = await openPage(
        browser,
        `http://127.0.0.1:${(relay.address() as net.AddressInfo).port}`,
      )
      await signIn(page, 'coord@example.org', password)
      await page.locator('.wl-row[data-patient="p1"]').waitFor()
      await expect.poll(() => text(page, '#live'), WAIT).toContain('Live')
      // On the patient's page, which loads its own data: it must show what arrived meanwhile too.
      await page.evaluate(() => {
        location.hash = '#/patients/p1'
      })
      await expect.poll(() => text(page, '#latest-title'), WAIT).toBe('Latest')
      up = false
      for (const s of open) s.destroy()
      await expect.poll(() => text(page, '#live'), WAIT).not.toMatch(/^● Live/)
      await publish(reading('o-1', 'spo2', { value: 80, unit: '%' }))
      up = true
      // Before, the banner and the feed showed it after the reload, but it was never announced.
      await expect
        .poll(() => text(page, '#announce'), { timeout: 30_000, interval: 200 })
        .toMatch(/Critical alert for Ada Lovelace/)
      await expect.poll(() => text(page, 'dd[data-type="spo2"]'), WAIT).toMatch(/^80 %/)
    } finally {
      for (const s of open) s.destroy()
      await new Promise((r) => relay.close(r))
    }
  })

  it("says under the glucose chart that a meter's LO reading is not plotted", async ({ browser, h }) => {
    const { password, publish } = await coordinatorWithDevice(h, 'gl-1', ['p1'])
    for (const [id, value] of [
      ['g-1', 110],
      ['g-2', 'LO'],
    ] as const)
      await publish(reading(id, 'blood-glucose', { value, unit: 'mg/dL' }))
    const { page, consoleErrors } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await page.locator('.wl-row[data-patient="p1"]').waitFor()
    await page.goto(`${h.httpUrl}/#/patients/p1`)
    // Before, the summary read "1 reading: min 110, max 110, latest 110": the critical LO was nowhere.
    await expect
      .poll(() => text(page, '.chart[data-type="blood-glucose"] .chart-summary'), WAIT)
      .toMatch(
        /^1 reading: min 110, max 110, latest 110 mg\/dL\. Not plotted: 1 below the meter's range \(LO\); the latest LO at /,
      )
    expect(consoleErrors).toEqual([])
  })

  it('shows alert texts in the units the coordinator chose, like the rest of the screen', async ({
    browser,
    h,
  }) => {
    const { password, publish } = await coordinatorWithDevice(h, 'gl-1', ['p1'])
    await publish(reading('g-1', 'blood-glucose', { value: 65, unit: 'mg/dL' }))
    const { page } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    const msg = page.locator('li.alert', { hasText: 'glucose-low' }).locator('.msg')
    await expect.poll(() => msg.textContent(), WAIT).toMatch(/^Glucose 65 mg\/dL, 5 below the limit < 70 at /)
    await page.getByLabel('Glucose unit').selectOption('mmol/L')
    // Before, the worklist said 3.6 mmol/L and the alert 65 mg/dL.
    await expect
      .poll(() => msg.textContent(), WAIT)
      .toMatch(/^Glucose 3\.6 mmol\/L, 0\.3 below the limit < 3\.9 at /)
    expect(await msg.textContent()).not.toMatch(/\d{4}-\d{2}-\d{2}T/)
    await expect
      .poll(() => text(page, '.wl-row[data-patient="p1"] [data-type="blood-glucose"] .val'), WAIT)
      .toBe('3.6 mmol/L')
  })

  it('acknowledges a critical alert from the banner, from any page', async ({ browser, h }) => {
    const { password, publish } = await coordinatorWithDevice(h, 'ox-1', ['p1'])
    await publish(reading('o-1', 'spo2', { value: 80, unit: '%' }))
    const { page, consoleErrors } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await page.locator('#critical:not([hidden])').waitFor()
    // On the patient page there is no alert feed: the banner is where to act.
    await page.goto(`${h.httpUrl}/#/patients/p1`)
    await page.getByRole('button', { name: 'Acknowledge the critical alert for Ada Lovelace' }).click()
    await page.locator('#critical-calm:not([hidden])').waitFor()
    expect(await page.locator('#critical').isHidden()).toBe(true)
    const cookie = await h.login('coord@example.org', password)
    const alerts = (await (await fetch(`${h.httpUrl}/api/alerts?patient=p1`, { headers: { cookie } })).json())
      .alerts as { rule: string; status: string; history: { action: string; by: string }[] }[]
    const low = alerts.find((a) => a.rule === 'spo2-low')!
    expect(low.status).toBe('acknowledged')
    expect(low.history.at(-1)).toMatchObject({ action: 'acknowledged', by: 'coord@example.org' })
    expect(consoleErrors).toEqual([])
  })

  it("draws the patient's own alert limits on the charts, not the defaults", async ({ browser, start }) => {
    // A rule set in which p1's hr-high limit is 110 (the default is 130).
    const rules = path.join(tempDir('vitalwire-rules-'), 'rules.json')
    fs.writeFileSync(
      rules,
      JSON.stringify({
        ...DEFAULT_RULES,
        patientOverrides: {
          p1: { 'hr-high': { levels: [{ severity: 'high', any: [{ op: '>', limit: 110 }] }] } },
        },
      }),
    )
    const h = await start({ env: { VITALWIRE_ALERT_RULES: rules } })
    await h.enrollPatient('p1', { name: 'Ada Lovelace' })
    const { password, publish } = await coordinatorWithDevice(h, 'hr-1', ['p1'])
    await publish(reading('h-1', 'heart-rate', { value: 120 }))
    const { page } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await page.locator('.wl-row[data-patient="p1"]').waitFor()
    await page.goto(`${h.httpUrl}/#/patients/p1`)
    const legend = page.locator('.chart[data-type="heart-rate"] .thresholds')
    // Before, the line said 130 and the breaching 120 sat under it, looking in range.
    await expect.poll(() => legend.textContent(), WAIT).toContain('hr-high: 110 /min (high)')
    expect(await legend.textContent()).not.toContain('130')
    expect(await legend.textContent()).toContain('hr-low: 40 /min (high)')
  })
})
