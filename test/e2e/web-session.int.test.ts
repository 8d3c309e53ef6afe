import { Writable } from 'node:stream'
import mqtt from 'mqtt'
import { expect } from 'vitest'
import { COMPONENTS, startVitalwire } from '../../main.ts'
import { loadConfig } from '../../shared/config.ts'
import { createLogger } from '../../shared/logger.ts'
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

// Sessions: sign out, idle logoff with a warning first, the one-time password flow, and a live
// connection that comes back by itself after the server restarts (and says so while it is down).

// Each test starts its own server (`start`): one has a short idle timeout, another is restarted.
const it = webTest()

describeWeb('web UI sessions', () => {
  it('signs out and the session is gone on the server', async ({ browser, start }) => {
    const h = await start()
    const password = await h.addUser('coord@example.org', 'coordinator')
    const { page } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await expect.poll(() => text(page, '#live'), WAIT).toContain('Live')
    await page.getByRole('button', { name: 'Log out' }).click()
    await expect.poll(() => text(page, '#login-error'), WAIT).toBe('Signed out.')
    expect((await page.request.get(`${h.httpUrl}/api/session`)).status()).toBe(401)
    expect(await visible(page, '#live')).toBe(false)
  })

  it('warns before the idle timeout, stays signed in on activity, signs out at the timeout', async ({
    browser,
    start,
  }) => {
    const h = await start({ env: { VITALWIRE_SESSION_IDLE_MIN: '1' } })
    await h.enrollPatient('p1', { name: 'Ada Lovelace' })
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    const { page } = await openPage(browser, 'about:blank')
    // The status poll (/readyz every 10 s) must not count as activity: with the session cookie each poll
    // renewed the server's session, which then never idled out while the page was open.
    const readyzCookies: Promise<string | undefined>[] = []
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/readyz') readyzCookies.push(r.allHeaders().then((x) => x.cookie))
    })
    await page.clock.install()
    await page.goto(h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await page.locator('.wl-row[data-patient="p1"]').waitFor()

    // 60 s idle timeout: the warning comes 15 s before it.
    await page.clock.fastForward(40_000)
    expect(await visible(page, '#idle')).toBe(false)
    await page.clock.fastForward(6_000)
    await expect.poll(() => visible(page, '#idle'), WAIT).toBe(true)
    expect(await text(page, '#idle-countdown')).toMatch(/signed out in 1[0-4] s/)
    await screenshot(page, 'web-idle-warning')
    const touched = page.waitForRequest((r) => r.url().endsWith('/api/session') && r.method() === 'GET')
    await page.getByRole('button', { name: 'Stay signed in' }).click()
    await touched
    expect(await visible(page, '#idle')).toBe(false)

    await page.clock.fastForward(50_000)
    await expect.poll(() => visible(page, '#idle'), WAIT).toBe(true)
    await page.clock.fastForward(11_000)
    await expect
      .poll(() => text(page, '#login-error'), WAIT)
      .toBe('You were signed out after a period of inactivity.')
    expect(await page.locator('.wl-row[data-patient="p1"]').count()).toBe(0)
    expect((await page.request.get(`${h.httpUrl}/api/session`)).status()).toBe(401)
    expect(readyzCookies.length).toBeGreaterThan(3)
    expect(await Promise.all(readyzCookies)).toEqual(readyzCookies.map(() => undefined))
  })

  it('makes a user with a one-time password choose a new one before seeing patients', async ({
    browser,
    start,
    skip,
  }) => {
    const h = await start()
    await h.enrollPatient('p1', { name: 'Ada Lovelace' })
    const probe = await fetch(`${h.httpUrl}/api/session/password`, { method: 'POST' })
    if (probe.status === 404) {
      process.stderr.write('\n*** SKIPPING: POST /api/session/password is not on this server yet ***\n\n')
      return skip()
    }
    const oneTime = await h.addUser('new@example.org', 'coordinator', ['p1'], { mustChangePassword: true })
    const { page, violations } = await openPage(browser, h.httpUrl)
    await signIn(page, 'new@example.org', oneTime)
    await page.locator('#pw-current').waitFor()
    expect(await page.locator('.wl-row[data-patient="p1"]').count()).toBe(0)
    await page.getByLabel('Current (one-time) password').fill(oneTime)
    await page.getByLabel('New password', { exact: true }).fill('a much better passphrase')
    await page.getByLabel('New password again').fill('a different passphrase')
    await page.getByRole('button', { name: 'Set password' }).click()
    await expect.poll(() => text(page, '#pw-error'), WAIT).toBe('The two new passwords differ.')
    // Long enough but common: the server says why, and the form shows it.
    await page.getByLabel('New password', { exact: true }).fill('Password1234')
    await page.getByLabel('New password again').fill('Password1234')
    await page.getByRole('button', { name: 'Set password' }).click()
    await expect.poll(() => text(page, '#pw-error'), WAIT).toMatch(/^this password is too easy to guess: /)
    await page.getByLabel('New password', { exact: true }).fill('a much better passphrase')
    await page.getByLabel('New password again').fill('a much better passphrase')
    await page.getByRole('button', { name: 'Set password' }).click()
    await page.locator('.wl-row[data-patient="p1"]').waitFor()
    await page.getByRole('button', { name: 'Log out' }).click()
    await signIn(page, 'new@example.org', 'a much better passphrase')
    await page.locator('.wl-row[data-patient="p1"]').waitFor()
    expect(violations).toEqual([])
  })

  it('says when it is not live and reconnects by itself after a server restart', async ({
    browser,
    start,
  }) => {
    const h = await start()
    await h.enrollPatient('p1', { name: 'Ada Lovelace' })
    const creds = await h.enrollDevice('hr-1', 'p1')
    const password = await h.addUser('coord@example.org', 'coordinator', ['p1'])
    const { page } = await openPage(browser, h.httpUrl)
    await signIn(page, 'coord@example.org', password)
    await expect.poll(() => text(page, '#live'), WAIT).toContain('Live')

    const port = new URL(h.httpUrl).port
    await h.running.close()
    await expect.poll(() => text(page, '#live'), WAIT).toContain('NOT LIVE')
    expect(await page.evaluate(() => document.body.classList.contains('offline'))).toBe(true)
    await screenshot(page, 'web-not-live')

    const quiet = new Writable({ write: (_c, _e, cb) => cb() })
    const again = await startVitalwire(
      loadConfig({ ...h.env, VITALWIRE_HTTP_PORT: port }),
      createLogger({ level: 'silent', destination: quiet }),
      new Set(COMPONENTS),
    )
    try {
      await expect.poll(() => text(page, '#live'), { timeout: 15_000, interval: 200 }).toContain('Live')
      const device = await mqtt.connectAsync(`mqtts://localhost:${again.mqttPort}`, {
        clientId: 'hr-1',
        username: 'hr-1',
        password: creds.secret,
        ca: h.ca,
        reconnectPeriod: 0,
      })
      await device.publishAsync(
        'rpm/v1/devices/hr-1/readings',
        reading('after-restart', 'heart-rate', { value: 77 }),
        { qos: 1 },
      )
      await expect
        .poll(() => text(page, '.wl-row[data-patient="p1"] [data-type="heart-rate"] .val'), WAIT)
        .toBe('77 /min')
      await device.endAsync()
    } finally {
      await again.close()
    }
  })
})
