// Web UI benchmark in real headless Chromium against a real Vitalwire:
//  1. time to first render of the worklist with 1,000 patients (navigation start -> rows in the DOM, and
//     -> the frame after, when they are painted), target <= 1 s;
//  2. 100 readings per second from 100 real TLS MQTT devices, STREAM_RUNS runs of STREAM_S seconds, each
//     on a freshly loaded page: no long tasks over 50 ms. Then MOVE_RUNS (1) more runs of the same stream
//     in which, every 500 ms, one more patient gets a new high alert and rises to the top of the worklist
//     (the heaviest frame there is: every row above the patient's old place moves; the plain stream
//     opens new alerts for five patients only, all in its first run). Per run: the longest task, how many exceed 50 ms,
//     frame gaps, layout shifts, and the Long Animation Frames attribution (which script, which function,
//     how much forced style and layout) of the worst frame, mapped back to the TypeScript source.
//  3. POINTER_RUNS (1): a stream run and a moves run with the pointer resting on the alert feed, which
//     is then frozen (new alerts wait behind "N new alerts — show"): the feed's layout shift should be ~0.
//     The other runs keep the pointer on the page header.
// Usage: node bench/web.ts   (writes bench/results/web.json; the machine may be shared: load is recorded)
//        STREAM_S=10 STREAM_RUNS=3 MOVE_RUNS=1 TRACE=1 PROFILE=1 node bench/web.ts   (TRACE=1: a Chromium trace per
//        run in test-artifacts/, for the DevTools Performance panel; PROFILE=1: the JavaScript functions
//        with the most self time). Every run also traces lightly, to count tasks by thread CPU time.
// The parts live in bench/web/: server.ts (seeding, API, devices), collectors.ts and first-render.ts (in the
// page), stream.ts (the runs), trace.ts, bundle-map.ts and run-result.ts (figures), report.ts (web.json).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { ARTIFACTS, launch } from '../test/helpers/browser.ts'
import { startHarness } from '../test/helpers/harness.ts'
import { openWs } from '../test/helpers/ws-client.ts'
import { loadBundleMap } from './web/bundle-map.ts'
import { installCollectors } from './web/collectors.ts'
import { BUILD, DIST, load, MOVE_RUNS, POINTER_RUNS, STREAM_RUNS, STREAM_S } from './web/config.ts'
import { measureFirstRenders } from './web/first-render.ts'
import { buildResult, report } from './web/report.ts'
import type { RunResult } from './web/run-result.ts'
import { connectDevices, resolveAll, seedPatients, timeApiPatients } from './web/server.ts'
import { streamRunner } from './web/stream.ts'

// Measure the page as the source is now, never a bundle left from an earlier checkout.
execFileSync(process.execPath, [BUILD], { stdio: 'ignore' })
const loadBefore = load()
const h = await startHarness({ env: { VITALWIRE_LOG_LEVEL: 'warn' } })
const secrets = await seedPatients(h)
const password = await h.addUser('bench@example.org', 'admin')
const cookie = await h.login('bench@example.org', password)
const apiTimes = await timeApiPatients(h, cookie)
console.log('GET /api/patients ms', apiTimes)

const browser = await launch()
const context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
const [name, value] = cookie.split(';')[0].split('=')
await context.addCookies([{ name, value, url: h.httpUrl }])
await installCollectors(context)
const page = await context.newPage()

const firstRender = await measureFirstRenders(page, h.httpUrl)
console.log('first render', JSON.stringify(firstRender, null, 1))
fs.mkdirSync(ARTIFACTS, { recursive: true })
await page.screenshot({ path: path.join(ARTIFACTS, 'bench-web-1000.png') })
if (STREAM_S === 0) {
  // First render only: close the browser and the server (and so remove its data dir) before leaving.
  await browser.close()
  await h.close()
  process.exit(0)
}

// 2. The stream: 100 devices, each one reading a second; every 20th reading is a high heart rate (alerts).
const probe = await openWs(h.httpUrl, cookie)
const devices = await connectDevices(h, secrets)
const cdp = await context.newCDPSession(page)
await cdp.send('Performance.enable')
const streamOnce = streamRunner({ browser, page, cdp, probe, devices, bundle: loadBundleMap(DIST) })

const runs: RunResult[] = []
for (let r = 0; r < STREAM_RUNS; r++) {
  const res = await streamOnce(r)
  console.log(JSON.stringify(res, null, 1))
  runs.push(res)
}
const moveRuns: RunResult[] = []
for (let r = 0; r < MOVE_RUNS; r++) {
  const res = await streamOnce(STREAM_RUNS + r, true)
  console.log(JSON.stringify(res, null, 1))
  moveRuns.push(res)
}
// The same with the pointer resting on the alert feed: one stream run and one moves run. First every open
// alert is resolved, so the stream run opens the same new alerts as the first run above (the plain
// stream's alerts open in its first run only).
const pointerRuns: RunResult[] = []
if (POINTER_RUNS) {
  await resolveAll(h, cookie)
  const stream = await streamOnce(STREAM_RUNS + MOVE_RUNS, false, true)
  console.log(JSON.stringify(stream, null, 1))
  const moves = await streamOnce(STREAM_RUNS + MOVE_RUNS + 1, true, true)
  console.log(JSON.stringify(moves, null, 1))
  pointerRuns.push(stream, moves)
}

const chromium = browser.version()
report(buildResult({ chromium, loadBefore, apiTimes, firstRender, runs, moveRuns, pointerRuns }))
probe.close()
for (const d of devices) d.end(true)
await browser.close()
await h.close()
