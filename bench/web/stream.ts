import path from 'node:path'
import type { MqttClient } from 'mqtt'
import type { Browser, CDPSession, Page } from 'playwright-core'
import { ARTIFACTS } from '../../test/helpers/browser.ts'
import type { WsProbe } from '../../test/helpers/ws-client.ts'
import { type BundleMap, topFunctions } from './bundle-map.ts'
import { startCollecting, stopCollecting, waitComplete } from './collectors.ts'
import { load, MOVE_EVERY, PROFILE, RATE_PER_S, STREAM_DEVICES, STREAM_S, TRACE } from './config.ts'
import { runResult } from './run-result.ts'
import { mainThreadTasks } from './trace.ts'

// 2. and 3. The stream runs: each on a freshly loaded page, 100 readings per second from the real TLS
// MQTT devices, recorded by the page's collectors, a light Chromium trace and Chromium's own metrics.

export interface Rig {
  browser: Browser
  page: Page
  cdp: CDPSession
  /** A WebSocket client of the dashboard: what the server pushed during each run. */
  probe: WsProbe
  devices: MqttClient[]
  bundle: BundleMap
}

// Patients of the stream's devices that its own high readings (every 20th: devices 19, 39, ...) never
// alert: a moves run raises them one at a time.
const risers = Array.from({ length: STREAM_DEVICES }, (_, i) => i).filter((i) => i % 20 !== 19)

/** Readings sent over all runs so far, and how many risers have risen (they rise once, in any run). */
interface Counts {
  sent: number
  risen: number
}

export function streamRunner(rig: Rig) {
  const counts: Counts = { sent: 0, risen: 0 }
  return async function streamOnce(run: number, moves = false, pointerOverFeed = false) {
    await preparePage(rig.page, pointerOverFeed)
    const tracePath = path.join(ARTIFACTS, `bench-web-stream-${run + 1}.trace.json`)
    await startRecording(rig, tracePath)
    const m0 = await metrics(rig.cdp)
    const seenBefore = rig.probe.messages.length
    const loadStart = load()
    const runSent = await publish(rig.devices, counts, moves)
    await new Promise((res) => setTimeout(res, 1000))
    const got = await stopCollecting(rig.page)
    await rig.page.mouse.move(5, 5)
    const cpu = mainThreadTasks(JSON.parse(String(await rig.browser.stopTracing())))
    const profile = PROFILE
      ? topFunctions(((await rig.cdp.send('Profiler.stop')) as any).profile, rig.bundle)
      : undefined
    const m1 = await metrics(rig.cdp)
    const delivered = rig.probe.messages.slice(seenBefore)
    const record = { run, moves, pointerOverFeed, loadStart, runSent, delivered, m0, m1, got, cpu, tracePath }
    return runResult({ ...record, profile }, rig.bundle)
  }
}

async function preparePage(page: Page, pointerOverFeed: boolean) {
  await page.reload()
  await waitComplete(page)
  // The pointer rests on the page header (over neither list), or on the alert feed, as a coordinator's
  // does who is about to acknowledge something: then the feed is frozen (dashboard/web/src/freeze.ts).
  const feedBox = await page.locator('section.feed').boundingBox()
  if (pointerOverFeed && feedBox) await page.mouse.move(feedBox.x + feedBox.width / 2, feedBox.y + 200)
  else await page.mouse.move(5, 5)
  await startCollecting(page)
}

async function startRecording({ browser, page, cdp }: Rig, tracePath: string) {
  // Always a light Chromium trace: it gives each main-thread task's thread CPU time next to its wall
  // time, so a task made long by a busy machine (descheduled renderer) is told apart from a task that
  // does 50 ms of work. TRACE=1 keeps a richer trace on disk.
  await browser.startTracing(page, {
    path: TRACE ? tracePath : undefined,
    screenshots: false,
    categories: (TRACE
      ? (process.env.TRACE_CATEGORIES ?? 'devtools.timeline,disabled-by-default-devtools.timeline,v8,blink')
      : 'devtools.timeline,disabled-by-default-devtools.timeline'
    ).split(','),
  })
  if (PROFILE) {
    await cdp.send('Profiler.enable')
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 })
    await cdp.send('Profiler.start')
  }
}

// Chromium's own accounting of the renderer's main thread (seconds spent in script, style, layout, tasks).
async function metrics(cdp: CDPSession): Promise<Record<string, number>> {
  return Object.fromEntries(
    ((await cdp.send('Performance.getMetrics')) as any).metrics.map((m: any) => [m.name, m.value]),
  )
}

// The stream: the devices in turn, RATE_PER_S readings a second for STREAM_S seconds; every 20th reading
// is a high heart rate (alerts). In a moves run every MOVE_EVERY-th reading is a riser's high reading.
async function publish(devices: MqttClient[], counts: Counts, moves: boolean): Promise<number> {
  const startMs = Date.now()
  let runSent = 0
  const tickMs = 1000 / RATE_PER_S
  while (Date.now() - startMs < STREAM_S * 1000) {
    const rise = moves && runSent % MOVE_EVERY === MOVE_EVERY - 1 && counts.risen < risers.length
    const d = devices[rise ? risers[counts.risen++] : counts.sent % devices.length]
    const id = (d.options.clientId as string).slice(2)
    const high = rise || counts.sent % 20 === 19
    d.publish(
      `rpm/v1/devices/d-${id}/readings`,
      JSON.stringify({
        id: `s-${counts.sent}`,
        type: 'heart-rate',
        ts: new Date().toISOString(),
        value: high ? 150 : 60 + (counts.sent % 30),
      }),
      { qos: 1 },
    )
    counts.sent++
    runSent++
    const due = startMs + runSent * tickMs
    await new Promise((res) => setTimeout(res, Math.max(0, due - Date.now())))
  }
  return runSent
}
