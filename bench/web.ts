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
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import { SourceMap } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import type { Page } from 'playwright-core'
import { decode } from '../ingest/decode.ts'
import { toObservations } from '../ingest/to-observation.ts'
import { loadConfig } from '../shared/config.ts'
import { enrollDevice } from '../shared/provisioning.ts'
import { openEmbeddedStorage } from '../storage/sqlite/index.ts'
import { ARTIFACTS, launch } from '../test/helpers/browser.ts'
import { startHarness } from '../test/helpers/harness.ts'
import { openWs } from '../test/helpers/ws-client.ts'

const PATIENTS = 1000
const STREAM_DEVICES = 100
const RATE_PER_S = 100
const STREAM_S = Number(process.env.STREAM_S ?? 10)
const STREAM_RUNS = Number(process.env.STREAM_RUNS ?? 3)
const MOVE_RUNS = Number(process.env.MOVE_RUNS ?? 1)
/** 1: one more stream run and one more moves run with the pointer resting on the alert feed. */
const POINTER_RUNS = Number(process.env.POINTER_RUNS ?? 1)
/** In a moves run, a new high alert every MOVE_EVERY readings (500 ms), each for a patient without one. */
const MOVE_EVERY = 50
const TRACE = process.env.TRACE === '1'
const PROFILE = process.env.PROFILE === '1'
const RUNS = 5
const DIST = path.join(import.meta.dirname, '..', 'dashboard', 'web', 'dist')

const load = () => execFileSync('uptime', { encoding: 'utf8' }).trim()
// Measure the page as the source is now, never a bundle left from an earlier checkout.
execFileSync(process.execPath, [path.join(import.meta.dirname, '..', 'dashboard', 'web', 'build.ts')], {
  stdio: 'ignore',
})
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
const loadBefore = load()
const h = await startHarness({ env: { VITALWIRE_LOG_LEVEL: 'warn' } })
const config = loadConfig(h.env)

// Seed 1,000 patients, a device each, and three recent readings each (through the ingest's own decode and
// FHIR mapping, written to the same SQLite file the server reads).
const secrets = new Map<string, string>()
const s = openEmbeddedStorage({
  dataDir: h.dataDir,
  dbPath: config.dbPath,
  dataKey: config.dataKey,
  outbox: false,
})
const now = Date.now()
for (let i = 0; i < PATIENTS; i++) {
  const pid = `p${String(i).padStart(4, '0')}`
  await s.registry.addPatient({ id: pid, name: `Patient ${i}` })
  const d = await enrollDevice(s.registry, {
    id: `d-${pid}`,
    patientId: pid,
    type: 'generic',
    auth: 'secret',
    pkiDir: config.pkiDir,
  })
  if (i < STREAM_DEVICES) secrets.set(pid, (d as { secret: string }).secret)
  const ts = (minutes: number) => new Date(now - minutes * 60_000).toISOString()
  const payload = JSON.stringify({
    readings: [
      { id: 'hr', type: 'heart-rate', ts: ts(i % 600), value: 60 + (i % 40) },
      { id: 'sp', type: 'spo2', ts: ts(i % 300), value: 92 + (i % 8) },
      {
        id: 'bp',
        type: 'blood-pressure',
        ts: ts(i % 900),
        systolic: 110 + (i % 50),
        diastolic: 70 + (i % 20),
      },
    ],
  })
  const obs = decode(new TextEncoder().encode(payload), {
    nowMs: now,
    maxFutureMs: 300_000,
    maxAgeMs: 30 * 86_400_000,
  }).flatMap((it) =>
    it.ok ? toObservations(it.reading, { deviceId: `d-${pid}`, patientId: pid, receivedMs: now }) : [],
  )
  await s.readings.write(obs)
}
s.close()
const password = await h.addUser('bench@example.org', 'admin')
const cookie = await h.login('bench@example.org', password)

// The server's share: GET /api/patients for 1,000 patients, measured from Node (median of 3).
const apiTimes: number[] = []
for (let i = 0; i < 3; i++) {
  const t0 = performance.now()
  await (await fetch(`${h.httpUrl}/api/patients`, { headers: { cookie } })).json()
  apiTimes.push(Math.round(performance.now() - t0))
}
console.log('GET /api/patients ms', apiTimes)

const browser = await launch()
const context = await browser.newContext({ viewport: { width: 1400, height: 900 } })
const [name, value] = cookie.split(';')[0].split('=')
await context.addCookies([{ name, value, url: h.httpUrl }])
// Collectors installed before the app's script runs: long tasks, long animation frames with their script
// attribution, layout shifts, and frame gaps (requestAnimationFrame to requestAnimationFrame).
await context.addInitScript(() => {
  const w = window as any
  w.__vw = { longTasks: [], loafs: [], shifts: [], gaps: [] }
  new PerformanceObserver((l) => {
    for (const e of l.getEntries()) w.__vw.longTasks.push({ start: e.startTime, duration: e.duration })
  }).observe({ type: 'longtask', buffered: true })
  new PerformanceObserver((l) => {
    for (const e of l.getEntries() as any[])
      w.__vw.loafs.push({
        start: e.startTime,
        duration: e.duration,
        blockingDuration: e.blockingDuration,
        renderStart: e.renderStart,
        styleAndLayoutStart: e.styleAndLayoutStart,
        scripts: e.scripts.map((s: any) => ({
          invoker: s.invoker,
          invokerType: s.invokerType,
          sourceURL: s.sourceURL,
          sourceFunctionName: s.sourceFunctionName,
          sourceCharPosition: s.sourceCharPosition,
          start: s.startTime,
          duration: s.duration,
          forcedStyleAndLayoutDuration: s.forcedStyleAndLayoutDuration,
          pauseDuration: s.pauseDuration,
        })),
      })
  }).observe({ type: 'long-animation-frame', buffered: true })
  // Each shift with what moved (element, old and new top): a stream of updates must move nothing.
  const describe = (n: any) =>
    n?.nodeType === 1
      ? `${n.tagName.toLowerCase()}${n.id ? `#${n.id}` : ''}${n.className ? `.${String(n.className).split(' ').join('.')}` : ''}${n.dataset?.patient ? `[${n.dataset.patient}]` : ''}`
      : String(n?.nodeName)
  new PerformanceObserver((l) => {
    for (const e of l.getEntries() as any[])
      if (!e.hadRecentInput)
        w.__vw.shifts.push({
          start: e.startTime,
          value: e.value,
          sources: e.sources.map((x: any) => `${describe(x.node)} ${x.previousRect.y}->${x.currentRect.y}`),
          // Whether the alert feed moved in this shift (its items, its empty note).
          feed: e.sources.some((x: any) => !!x.node?.closest?.('.feed')),
        })
  }).observe({ type: 'layout-shift', buffered: true })
})
const page = await context.newPage()

const waitComplete = (p: Page) =>
  p.waitForFunction(() => performance.getEntriesByName('vw:worklist-complete').length > 0, null, {
    timeout: 120_000,
  })

// 1. First render, RUNS times (the first one is cold: nothing cached in the browser).
const firstRender: {
  domMs: number
  paintedMs: number
  allRowsMs: number
  rows: number
  apiMs: Record<string, number>
}[] = []
for (let r = 0; r < RUNS; r++) {
  if (r === 0) await page.goto(h.httpUrl)
  else await page.reload()
  await waitComplete(page)
  firstRender.push(
    await page.evaluate(() => ({
      domMs: Math.round(performance.getEntriesByName('vw:worklist-rendered')[0].startTime),
      paintedMs: Math.round(performance.getEntriesByName('vw:worklist-painted')[0].startTime),
      allRowsMs: Math.round(performance.getEntriesByName('vw:worklist-complete')[0]?.startTime ?? -1),
      rows: document.querySelectorAll('#worklist .wl-body .wl-row').length,
      // When each API response had fully arrived (ms since navigation start): where the time goes.
      apiMs: Object.fromEntries(
        (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
          .filter((e) => e.name.includes('/api/') || e.name.endsWith('.js'))
          .map((e) => [new URL(e.name).pathname + new URL(e.name).search, Math.round(e.responseEnd)]),
      ),
    })),
  )
}
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
// Ten TLS handshakes at a time, with a generous timeout: the machine may be shared and busy.
const devices: Awaited<ReturnType<typeof h.connectDevice>>[] = []
const queue = [...secrets]
while (queue.length) {
  const batch = queue.splice(0, 10)
  devices.push(
    ...(await Promise.all(
      batch.map(([pid, secret]) => h.connectDevice(`d-${pid}`, { secret }, { connectTimeout: 60_000 })),
    )),
  )
}
// Chromium's own accounting of the renderer's main thread (seconds spent in script, style, layout, tasks).
const cdp = await context.newCDPSession(page)
await cdp.send('Performance.enable')
const metrics = async () =>
  Object.fromEntries(
    ((await cdp.send('Performance.getMetrics')) as any).metrics.map((m: any) => [m.name, m.value]),
  )

// Minified positions -> TypeScript source lines, through the bundle's own source map.
const sourceMap = new SourceMap(JSON.parse(fs.readFileSync(path.join(DIST, 'app.js.map'), 'utf8')))
const bundleLines = fs.readFileSync(path.join(DIST, 'app.js'), 'utf8').split('\n')
function original(charPos: number): string | undefined {
  if (charPos < 0) return undefined
  let line = 0
  while (line < bundleLines.length - 1 && charPos > bundleLines[line].length)
    charPos -= bundleLines[line++].length + 1
  const e = sourceMap.findEntry(line, charPos) as any
  if (!e?.originalSource) return undefined
  const fn = e.name ? ` ${e.name}` : ''
  const file = e.originalSource.startsWith('file:')
    ? new URL(e.originalSource).pathname
    : path.resolve(DIST, e.originalSource)
  return `${path.relative(process.cwd(), file)}:${e.originalLine + 1}${fn}`
}

/** PROFILE=1: the page's JavaScript functions with the most self time, mapped to the TypeScript source. */
function topFunctions(profile: any) {
  const self = new Map<string, number>()
  const dt = (profile.endTime - profile.startTime) / 1000 / profile.samples.length
  const byId = new Map<number, any>(profile.nodes.map((n: any) => [n.id, n]))
  for (const id of profile.samples) {
    const f = byId.get(id).callFrame
    const where = f.url.endsWith('/app.js')
      ? (original(lineColToPos(f.lineNumber, f.columnNumber)) ?? f.functionName)
      : `${f.functionName || '(anonymous)'} ${f.url ? path.basename(f.url) : ''}`.trim()
    self.set(where, (self.get(where) ?? 0) + dt)
  }
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([fn, ms]) => `${Math.round(ms)} ms ${fn}`)
}

function lineColToPos(line: number, col: number): number {
  let pos = col
  for (let i = 0; i < line; i++) pos += bundleLines[i].length + 1
  return pos
}

/** Renderer main-thread tasks in a trace: how many exceed 50 ms of wall and of CPU time, and the heaviest. */
function mainThreadTasks(trace: any) {
  const ev: any[] = trace.traceEvents ?? trace
  const threads = ev.filter((e) => e.name === 'thread_name' && e.args.name === 'CrRendererMain')
  const count = (t: any) => ev.filter((e) => e.pid === t.pid && e.tid === t.tid).length
  const main = threads.sort((a, b) => count(b) - count(a))[0]
  const mine = ev
    .filter((e) => e.pid === main?.pid && e.tid === main?.tid && e.ph === 'X' && e.dur !== undefined)
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur)
  const tasks = mine.filter((e) => e.name === 'RunTask')
  const cpu = (e: any) => (e.tdur ?? 0) / 1000
  const top = [...tasks].sort((a, b) => cpu(b) - cpu(a))[0]
  // Self CPU time by event name inside the heaviest task (what it consists of).
  const self = new Map<string, number>()
  const stack: any[] = []
  const close = (e: any) => self.set(e.name, (self.get(e.name) ?? 0) + e.selfMs)
  for (const e of top ? mine.filter((x) => x.ts >= top.ts && x.ts + x.dur <= top.ts + top.dur) : []) {
    while (stack.length && stack.at(-1).ts + stack.at(-1).dur <= e.ts) close(stack.pop())
    e.selfMs = cpu(e)
    if (stack.length) stack.at(-1).selfMs -= cpu(e)
    stack.push(e)
  }
  while (stack.length) close(stack.pop())
  return {
    overWall: tasks.filter((t) => t.dur > 50_000).length,
    overCpu: tasks.filter((t) => cpu(t) > 50).length,
    heaviest: top && {
      cpuMs: Math.round(cpu(top)),
      wallMs: Math.round(top.dur / 1000),
      consistsOf: [...self]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([k, ms]) => `${k} ${ms.toFixed(1)} ms`),
    },
  }
}

function phases(f: any) {
  const end = f.start + f.duration
  const render = f.renderStart || end
  const style = f.styleAndLayoutStart || end
  return {
    beforeRenderMs: Math.round(render - f.start),
    animationFrameCallbacksMs: Math.round(style - render),
    styleLayoutPaintMs: Math.round(end - style),
  }
}

let sent = 0
// Patients of the stream's devices that its own high readings (every 20th: devices 19, 39, ...) never
// alert: a moves run raises them one at a time.
const risers = Array.from({ length: STREAM_DEVICES }, (_, i) => i).filter((i) => i % 20 !== 19)
let risen = 0
async function streamOnce(run: number, moves = false, pointerOverFeed = false) {
  await page.reload()
  await waitComplete(page)
  // The pointer rests on the page header (over neither list), or on the alert feed, as a coordinator's
  // does who is about to acknowledge something: then the feed is frozen (dashboard/web/src/freeze.ts).
  const feedBox = await page.locator('section.feed').boundingBox()
  if (pointerOverFeed && feedBox) await page.mouse.move(feedBox.x + feedBox.width / 2, feedBox.y + 200)
  else await page.mouse.move(5, 5)
  await page.evaluate(() => {
    const w = window as any
    w.__vw = { longTasks: [], loafs: [], shifts: [], gaps: [] }
    w.__t0 = performance.now()
    w.__stop = false
    let last = performance.now()
    const frame = (t: number) => {
      w.__vw.gaps.push(t - last)
      last = t
      if (!w.__stop) requestAnimationFrame(frame)
    }
    requestAnimationFrame(frame)
  })
  // Always a light Chromium trace: it gives each main-thread task's thread CPU time next to its wall
  // time, so a task made long by a busy machine (descheduled renderer) is told apart from a task that
  // does 50 ms of work. TRACE=1 keeps a richer trace on disk.
  const tracePath = path.join(ARTIFACTS, `bench-web-stream-${run + 1}.trace.json`)
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
  const m0 = await metrics()
  const seenBefore = probe.messages.length
  const loadStart = load()
  const startMs = Date.now()
  let runSent = 0
  const tickMs = 1000 / RATE_PER_S
  while (Date.now() - startMs < STREAM_S * 1000) {
    const rise = moves && runSent % MOVE_EVERY === MOVE_EVERY - 1 && risen < risers.length
    const d = devices[rise ? risers[risen++] : sent % devices.length]
    const id = (d.options.clientId as string).slice(2)
    const high = rise || sent % 20 === 19
    d.publish(
      `rpm/v1/devices/d-${id}/readings`,
      JSON.stringify({
        id: `s-${sent}`,
        type: 'heart-rate',
        ts: new Date().toISOString(),
        value: high ? 150 : 60 + (sent % 30),
      }),
      { qos: 1 },
    )
    sent++
    runSent++
    const due = startMs + runSent * tickMs
    await new Promise((res) => setTimeout(res, Math.max(0, due - Date.now())))
  }
  await new Promise((res) => setTimeout(res, 1000))
  const got = await page.evaluate(() => {
    const w = window as any
    w.__stop = true
    const pending = document.getElementById('feed-pending')
    // Observers deliver entries late: drop those of the page load that arrived after the reset.
    const after = (e: { start: number }) => e.start >= w.__t0
    const v = w.__vw
    return {
      longTasks: v.longTasks.filter(after),
      loafs: v.loafs.filter(after),
      shifts: v.shifts.filter(after),
      gaps: v.gaps,
      feedPending: pending && !pending.hidden ? pending.textContent : '',
    }
  })
  await page.mouse.move(5, 5)
  const cpu = mainThreadTasks(JSON.parse(String(await browser.stopTracing())))
  const profile = PROFILE ? topFunctions(((await cdp.send('Profiler.stop')) as any).profile) : undefined
  const m1 = await metrics()
  const gaps = (got.gaps as number[]).slice(1)
  const longTasks = got.longTasks as { start: number; duration: number }[]
  const loafs = got.loafs as any[]
  const worst = [...loafs].sort((a, b) => b.duration - a.duration)[0]
  const delivered = probe.messages.slice(seenBefore)
  return {
    run: run + 1,
    kind: moves ? 'moves' : 'stream',
    pointer: pointerOverFeed ? 'over the alert feed' : 'away (page header)',
    load: loadStart,
    sentReadings: runSent,
    deliveredObservations: delivered.filter((m) => m.type === 'observation').length,
    deliveredAlerts: delivered.filter((m) => m.type === 'alert' || m.type === 'alert-updated').length,
    mainThreadBusy: Object.fromEntries(
      ['TaskDuration', 'ScriptDuration', 'RecalcStyleDuration', 'LayoutDuration'].map((k) => [
        `${k}Ms`,
        Math.round((m1[k] - m0[k]) * 1000),
      ]),
    ),
    longTasksOver50ms: longTasks.length,
    longestTaskMs: Math.round(Math.max(0, ...longTasks.map((t) => t.duration))),
    longTasks: longTasks.map((t) => ({ startMs: Math.round(t.start), durationMs: Math.round(t.duration) })),
    frames: gaps.length,
    maxFrameGapMs: Math.round(Math.max(0, ...gaps)),
    framesOver50ms: gaps.filter((g) => g > 50).length,
    // From the trace: the same tasks by wall time and by the CPU time the main thread really spent.
    tasksOver50msWall: cpu.overWall,
    tasksOver50msCpu: cpu.overCpu,
    heaviestTask: cpu.heaviest,
    layoutShift: Number((got.shifts as { value: number }[]).reduce((a, x) => a + x.value, 0).toFixed(4)),
    // The shifts in which an alert feed item moved (a shift's score is not split by element: one that
    // moved feed items and worklist rows together counts here whole).
    layoutShiftFeed: Number(
      (got.shifts as { value: number; feed: boolean }[])
        .filter((x) => x.feed)
        .reduce((a, x) => a + x.value, 0)
        .toFixed(4),
    ),
    // With the pointer over the feed: what waited behind "N new alerts — show" when the run ended.
    feedPendingAtEnd: got.feedPending,
    layoutShifts: (got.shifts as any[]).slice(0, 5).map((x) => ({
      startMs: Math.round(x.start),
      value: Number(x.value.toFixed(4)),
      sources: x.sources,
    })),
    longAnimationFrames: loafs.length,
    worstFrame: worst && {
      startMs: Math.round(worst.start),
      durationMs: Math.round(worst.duration),
      blockingMs: Math.round(worst.blockingDuration),
      // Where the frame's time went: tasks before rendering, requestAnimationFrame callbacks, then
      // style, layout and paint of the frame.
      ...phases(worst),
      scripts: worst.scripts.map((x: any) => ({
        invoker: x.invoker,
        invokerType: x.invokerType,
        source: `${x.sourceURL ? new URL(x.sourceURL).pathname : '?'} ${x.sourceFunctionName || '(anonymous)'}`,
        original: original(x.sourceCharPosition),
        durationMs: Math.round(x.duration),
        forcedStyleAndLayoutMs: Math.round(x.forcedStyleAndLayoutDuration),
        pauseMs: Math.round(x.pauseDuration),
      })),
    },
    trace: TRACE ? path.relative(process.cwd(), tracePath) : undefined,
    profile,
  }
}

const runs: Awaited<ReturnType<typeof streamOnce>>[] = []
for (let r = 0; r < STREAM_RUNS; r++) {
  const res = await streamOnce(r)
  console.log(JSON.stringify(res, null, 1))
  runs.push(res)
}
const moveRuns: Awaited<ReturnType<typeof streamOnce>>[] = []
for (let r = 0; r < MOVE_RUNS; r++) {
  const res = await streamOnce(STREAM_RUNS + r, true)
  console.log(JSON.stringify(res, null, 1))
  moveRuns.push(res)
}
// The same with the pointer resting on the alert feed: one stream run and one moves run. First every open
// alert is resolved, so the stream run opens the same new alerts as the first run above (the plain
// stream's alerts open in its first run only).
async function resolveAll() {
  const headers = { cookie, 'content-type': 'application/json' }
  for (const status of ['open', 'acknowledged']) {
    const res = await fetch(`${h.httpUrl}/api/alerts?status=${status}&limit=1000`, { headers })
    for (const a of ((await res.json()) as { alerts: { id: string }[] }).alerts)
      await fetch(`${h.httpUrl}/api/alerts/${encodeURIComponent(a.id)}/resolve`, {
        method: 'POST',
        headers,
        body: '{}',
      })
  }
}
const pointerRuns: Awaited<ReturnType<typeof streamOnce>>[] = []
if (POINTER_RUNS) {
  await resolveAll()
  const stream = await streamOnce(STREAM_RUNS + MOVE_RUNS, false, true)
  console.log(JSON.stringify(stream, null, 1))
  const moves = await streamOnce(STREAM_RUNS + MOVE_RUNS + 1, true, true)
  console.log(JSON.stringify(moves, null, 1))
  pointerRuns.push(stream, moves)
}
/** Across runs: the figures the target is judged by. */
const summary = (rs: typeof runs) => ({
  longestTaskMs: Math.max(0, ...rs.map((r) => r.longestTaskMs)),
  longTasksOver50ms: rs.reduce((a, r) => a + r.longTasksOver50ms, 0),
  tasksOver50msCpu: rs.reduce((a, r) => a + r.tasksOver50msCpu, 0),
  heaviestTaskCpuMs: Math.max(0, ...rs.map((r) => r.heaviestTask?.cpuMs ?? 0)),
  maxFrameGapMs: Math.max(0, ...rs.map((r) => r.maxFrameGapMs)),
  layoutShift: Math.max(0, ...rs.map((r) => r.layoutShift)),
  layoutShiftFeed: Math.max(0, ...rs.map((r) => r.layoutShiftFeed)),
})

const result = {
  date: new Date().toISOString(),
  machine: {
    cpu: os.cpus()[0]?.model,
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    platform: `${os.platform()} ${os.release()}`,
  },
  node: process.version,
  chromium: browser.version(),
  command: `${['STREAM_S', 'STREAM_RUNS', 'MOVE_RUNS', 'POINTER_RUNS', 'TRACE', 'PROFILE'].map((k) => (process.env[k] ? `${k}=${process.env[k]} ` : '')).join('')}node bench/web.ts`,
  loadBefore,
  loadAfter: load(),
  firstRender: {
    patients: PATIENTS,
    apiPatientsFromNodeMs: apiTimes,
    runs: firstRender,
    coldPaintedMs: firstRender[0].paintedMs,
    medianPaintedMs: median(firstRender.map((x) => x.paintedMs)),
    maxPaintedMs: Math.max(...firstRender.map((x) => x.paintedMs)),
    medianAllRowsMs: median(firstRender.map((x) => x.allRowsMs)),
    targetMs: 1000,
  },
  stream: {
    seconds: STREAM_S,
    runs: STREAM_RUNS,
    ratePerS: RATE_PER_S,
    ...summary(runs),
    perRun: runs,
  },
  moves: {
    runs: MOVE_RUNS,
    newAlertEveryMs: (MOVE_EVERY * 1000) / RATE_PER_S,
    ...summary(moveRuns),
    perRun: moveRuns,
  },
  // POINTER_RUNS=1 (default): a stream run and a moves run with the pointer resting on the alert feed.
  pointerOverFeed: {
    stream: { ...summary(pointerRuns.slice(0, 1)), perRun: pointerRuns.slice(0, 1) },
    moves: { ...summary(pointerRuns.slice(1)), perRun: pointerRuns.slice(1) },
  },
}
console.log(
  JSON.stringify({
    firstRender: result.firstRender.medianPaintedMs,
    stream: { ...result.stream, perRun: undefined },
    moves: { ...result.moves, perRun: undefined },
    pointerOverFeed: {
      stream: { ...result.pointerOverFeed.stream, perRun: undefined },
      moves: { ...result.pointerOverFeed.moves, perRun: undefined },
    },
  }),
)
fs.writeFileSync(
  path.join(import.meta.dirname, 'results', 'web.json'),
  `${JSON.stringify(result, null, 2)}\n`,
)
probe.close()
for (const d of devices) d.end(true)
await browser.close()
await h.close()
