import type { BrowserContext, Page } from 'playwright-core'

// What the page itself records, in window.__vw: installed before the app's script runs, reset at the start
// of each stream run and read back at its end.

// Collectors installed before the app's script runs: long tasks, long animation frames with their script
// attribution, layout shifts, and frame gaps (requestAnimationFrame to requestAnimationFrame).
export function installCollectors(context: BrowserContext) {
  return context.addInitScript(() => {
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
}

export const waitComplete = (p: Page) =>
  p.waitForFunction(() => performance.getEntriesByName('vw:worklist-complete').length > 0, null, {
    timeout: 120_000,
  })

/** Empties the collectors and starts the frame clock (frame gaps) for one run. */
export function startCollecting(page: Page) {
  return page.evaluate(() => {
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
}

/** Stops the frame clock and reads back what the run recorded. */
export function stopCollecting(page: Page) {
  return page.evaluate(() => {
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
}

export type Collected = Awaited<ReturnType<typeof stopCollecting>>
