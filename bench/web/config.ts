import { execFileSync } from 'node:child_process'
import path from 'node:path'

// The web bench's settings (environment variables documented in bench/web.ts) and the machine's load,
// recorded around every run because the machine may be shared.

export const PATIENTS = 1000
export const STREAM_DEVICES = 100
export const RATE_PER_S = 100
export const STREAM_S = Number(process.env.STREAM_S ?? 10)
export const STREAM_RUNS = Number(process.env.STREAM_RUNS ?? 3)
export const MOVE_RUNS = Number(process.env.MOVE_RUNS ?? 1)
/** 1: one more stream run and one more moves run with the pointer resting on the alert feed. */
export const POINTER_RUNS = Number(process.env.POINTER_RUNS ?? 1)
/** In a moves run, a new high alert every MOVE_EVERY readings (500 ms), each for a patient without one. */
export const MOVE_EVERY = 50
export const TRACE = process.env.TRACE === '1'
export const PROFILE = process.env.PROFILE === '1'
export const RUNS = 5
export const DIST = path.join(import.meta.dirname, '..', '..', 'dashboard', 'web', 'dist')
export const BUILD = path.join(import.meta.dirname, '..', '..', 'dashboard', 'web', 'build.ts')
export const RESULTS_FILE = path.join(import.meta.dirname, '..', 'results', 'web.json')

export const load = () => execFileSync('uptime', { encoding: 'utf8' }).trim()
