import fs from 'node:fs'
import os from 'node:os'
import {
  load,
  MOVE_EVERY,
  MOVE_RUNS,
  PATIENTS,
  RATE_PER_S,
  RESULTS_FILE,
  STREAM_RUNS,
  STREAM_S,
} from './config.ts'
import type { FirstRender } from './first-render.ts'
import type { RunResult } from './run-result.ts'

// bench/results/web.json and the one-line summary printed at the end.

export interface Measured {
  chromium: string
  loadBefore: string
  apiTimes: number[]
  firstRender: FirstRender[]
  runs: RunResult[]
  moveRuns: RunResult[]
  pointerRuns: RunResult[]
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

/** Across runs: the figures the target is judged by. */
const summary = (rs: RunResult[]) => ({
  longestTaskMs: Math.max(0, ...rs.map((r) => r.longestTaskMs)),
  longTasksOver50ms: rs.reduce((a, r) => a + r.longTasksOver50ms, 0),
  tasksOver50msCpu: rs.reduce((a, r) => a + r.tasksOver50msCpu, 0),
  heaviestTaskCpuMs: Math.max(0, ...rs.map((r) => r.heaviestTask?.cpuMs ?? 0)),
  maxFrameGapMs: Math.max(0, ...rs.map((r) => r.maxFrameGapMs)),
  layoutShift: Math.max(0, ...rs.map((r) => r.layoutShift)),
  layoutShiftFeed: Math.max(0, ...rs.map((r) => r.layoutShiftFeed)),
})

export function buildResult(m: Measured) {
  const { firstRender, runs, moveRuns, pointerRuns } = m
  return {
    date: new Date().toISOString(),
    machine: {
      cpu: os.cpus()[0]?.model,
      cores: os.cpus().length,
      memGiB: Math.round(os.totalmem() / 2 ** 30),
      platform: `${os.platform()} ${os.release()}`,
    },
    node: process.version,
    chromium: m.chromium,
    command: `${['STREAM_S', 'STREAM_RUNS', 'MOVE_RUNS', 'POINTER_RUNS', 'TRACE', 'PROFILE'].map((k) => (process.env[k] ? `${k}=${process.env[k]} ` : '')).join('')}node bench/web.ts`,
    loadBefore: m.loadBefore,
    loadAfter: load(),
    firstRender: {
      patients: PATIENTS,
      apiPatientsFromNodeMs: m.apiTimes,
      runs: firstRender,
      coldPaintedMs: firstRender[0].paintedMs,
      medianPaintedMs: median(firstRender.map((x) => x.paintedMs)),
      maxPaintedMs: Math.max(...firstRender.map((x) => x.paintedMs)),
      medianAllRowsMs: median(firstRender.map((x) => x.allRowsMs)),
      targetMs: 1000,
    },
    stream: { seconds: STREAM_S, runs: STREAM_RUNS, ratePerS: RATE_PER_S, ...summary(runs), perRun: runs },
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
}

/** Prints the summary line and writes bench/results/web.json. */
export function report(result: ReturnType<typeof buildResult>) {
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
  fs.writeFileSync(RESULTS_FILE, `${JSON.stringify(result, null, 2)}\n`)
}
