import fs from 'node:fs'
import path from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { describe, test } from 'vitest'
import { type Harness, startHarness } from './harness.ts'
import { findBinary, requireBinary } from './requirements.ts'

// Real headless Debian Chromium (never a downloaded browser) against a real Vitalwire, for the web UI's
// end-to-end tests and bench/web.ts. Every page records CSP violations and console errors, and
// screenshots land in test-artifacts/ (gitignored) so a person can look at what the tests saw.

export const ARTIFACTS = path.join(import.meta.dirname, '..', '..', 'test-artifacts')

/** Debian's /usr/bin/chromium through playwright-core; nothing is ever downloaded. */
export async function launch(): Promise<Browser> {
  const executablePath = findBinary('chromium')
  if (!executablePath) throw new Error('chromium not found: sudo apt-get install -y chromium')
  return chromium.launch({
    executablePath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
}

/**
 * describe() for a browser suite: without Debian's chromium it is skipped with a loud message, except in
 * CI (CI=true), where the missing browser fails the run (test/helpers/requirements.ts).
 */
export function describeWeb(name: string, fn: () => void): void {
  describe.skipIf(!requireBinary('chromium'))(name, { timeout: 120_000 }, fn)
}

/**
 * `it` with what every web UI test needs, each started only when a test asks for it: `browser`, one
 * headless Chromium per file; `h`, a fresh Vitalwire per test with `patients` (id -> name) enrolled; and
 * `start`, for a test that needs its own server settings. Every harness is closed after its test.
 */
export function webTest(patients: Record<string, string> = {}) {
  return (
    test
      // biome-ignore lint/correctness/noEmptyPattern: vitest reads a fixture's dependencies from this pattern
      .extend('browser', { scope: 'file' }, async ({}, { onCleanup }) => {
        const browser = await launch()
        onCleanup(() => browser.close())
        return browser
      })
      // biome-ignore lint/correctness/noEmptyPattern: as above
      .extend('start', async ({}, { onCleanup }) => {
        const started: Harness[] = []
        onCleanup(async () => {
          for (const h of started) await h.close()
        })
        return async (opts: Parameters<typeof startHarness>[0] = {}) => {
          const h = await startHarness(opts)
          started.push(h)
          return h
        }
      })
      .extend('h', async ({ start }) => {
        const h = await start()
        for (const [id, name] of Object.entries(patients)) await h.enrollPatient(id, { name })
        return h
      })
  )
}

export interface WatchedPage {
  page: Page
  /** CSP violations reported by the page (securitypolicyviolation events and console reports). */
  violations: string[]
  consoleErrors: string[]
}

export async function openPage(browser: Browser, url: string, viewport = { width: 1400, height: 900 }) {
  const context = await browser.newContext({ viewport })
  const page = await context.newPage()
  const watched: WatchedPage = { page, violations: [], consoleErrors: [] }
  await page.exposeFunction('__vwViolation', (v: string) => watched.violations.push(v))
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as any).__vwViolation(`${e.violatedDirective} ${e.blockedURI}`),
    )
  })
  page.on('console', (m) => {
    if (m.type() !== 'error') return
    if (/Content Security Policy/i.test(m.text())) watched.violations.push(m.text())
    // The first GET /api/session before signing in answers 401 by design.
    else if (!/status of 401/.test(m.text())) watched.consoleErrors.push(m.text())
  })
  page.on('pageerror', (e) => watched.consoleErrors.push(String(e)))
  await page.goto(url)
  return watched
}

export async function signIn(page: Page, email: string, password: string) {
  await page.getByLabel('Email').fill(email)
  await page.getByLabel('Password', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Sign in' }).click()
}

export async function screenshot(page: Page, name: string) {
  fs.mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true })
}

export function reading(id: string, type: string, fields: Record<string, unknown>) {
  return JSON.stringify({ id, type, ts: new Date().toISOString(), ...fields })
}

/** Text of the first match, or null at once when there is none (never waits, so it suits expect.poll). */
export function text(page: Page, selector: string): Promise<string | null> {
  return page.evaluate((s) => document.querySelector(s)?.textContent ?? null, selector)
}

export function visible(page: Page, selector: string): Promise<boolean> {
  return page.evaluate((s) => {
    const el = document.querySelector(s) as HTMLElement | null
    return !!el && !el.hidden && el.getClientRects().length > 0
  }, selector)
}

export const WAIT = { timeout: 10_000, interval: 100 }
