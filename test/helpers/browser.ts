import fs from 'node:fs'
import path from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import type { Harness } from './harness.ts'
import { findBinary } from './requirements.ts'

// Real headless Debian Chromium (never a downloaded browser) against a real Vitalwire, for the web UI's
// end-to-end tests. Every page records CSP violations and console errors, and screenshots land in
// test-artifacts/ (gitignored) so a person can look at what the tests saw.

export const ARTIFACTS = path.join(import.meta.dirname, '..', '..', 'test-artifacts')

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: findBinary('chromium'),
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
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
