import path from 'node:path'
import type { BundleMap } from './bundle-map.ts'
import type { Collected } from './collectors.ts'
import { TRACE } from './config.ts'
import type { mainThreadTasks } from './trace.ts'

// One stream run's figures, from what the page collected, the trace, Chromium's metrics and the probe.

export interface RunRecord {
  run: number
  moves: boolean
  pointerOverFeed: boolean
  loadStart: string
  runSent: number
  /** The WebSocket messages the probe received during the run. */
  delivered: any[]
  /** Chromium's Performance.getMetrics before and after the run. */
  m0: Record<string, number>
  m1: Record<string, number>
  got: Collected
  cpu: ReturnType<typeof mainThreadTasks>
  tracePath: string
  profile: string[] | undefined
}

export function runResult(r: RunRecord, bundle: BundleMap) {
  const { got, cpu } = r
  const gaps = (got.gaps as number[]).slice(1)
  const longTasks = got.longTasks as { start: number; duration: number }[]
  return {
    run: r.run + 1,
    kind: r.moves ? 'moves' : 'stream',
    pointer: r.pointerOverFeed ? 'over the alert feed' : 'away (page header)',
    load: r.loadStart,
    sentReadings: r.runSent,
    deliveredObservations: r.delivered.filter((m) => m.type === 'observation').length,
    deliveredAlerts: r.delivered.filter((m) => m.type === 'alert' || m.type === 'alert-updated').length,
    mainThreadBusy: Object.fromEntries(
      ['TaskDuration', 'ScriptDuration', 'RecalcStyleDuration', 'LayoutDuration'].map((k) => [
        `${k}Ms`,
        Math.round((r.m1[k] - r.m0[k]) * 1000),
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
    ...shiftFigures(got),
    ...frameFigures(got, bundle),
    trace: TRACE ? path.relative(process.cwd(), r.tracePath) : undefined,
    profile: r.profile,
  }
}

function shiftFigures(got: Collected) {
  return {
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
  }
}

function frameFigures(got: Collected, bundle: BundleMap) {
  const loafs = got.loafs as any[]
  const worst = [...loafs].sort((a, b) => b.duration - a.duration)[0]
  return {
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
        original: bundle.original(x.sourceCharPosition),
        durationMs: Math.round(x.duration),
        forcedStyleAndLayoutMs: Math.round(x.forcedStyleAndLayoutDuration),
        pauseMs: Math.round(x.pauseDuration),
      })),
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

export type RunResult = ReturnType<typeof runResult>
