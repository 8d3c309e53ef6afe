import type { Rng } from './prng.ts'

// Faults that real home devices have. Each is off unless asked for; numbers are probabilities per
// message or seconds of real time. `--faults offline,duplicates=0.05,skew,malformed=0.02,reconnect-storm`.

export interface FaultOptions {
  /** Mean seconds a device stays offline (buffering) before it reconnects and replays. */
  offlineS?: number
  duplicates?: number
  skew?: boolean
  malformed?: number
  /** Every this many seconds, every device loses its connection at once and reconnects. */
  reconnectStormS?: number
}

const DEFAULTS = { offline: 5, duplicates: 0.05, malformed: 0.02, 'reconnect-storm': 20 }

export function parseFaults(text: string): FaultOptions {
  const out: FaultOptions = {}
  for (const part of text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [name, raw] = part.split('=')
    const n = raw === undefined ? undefined : Number(raw)
    if (raw !== undefined && !(Number.isFinite(n) && (n as number) >= 0))
      throw new Error(`fault ${name}: not a number: ${raw}`)
    // duplicates and malformed are the share of readings affected: a probability.
    if ((name === 'duplicates' || name === 'malformed') && n !== undefined && n > 1)
      throw new Error(`fault ${name}: a share of the readings from 0 to 1 (e.g. 0.05), not ${raw}`)
    // Seconds: 0 would do nothing at all (no offline period, no storm), silently.
    if ((name === 'offline' || name === 'reconnect-storm') && n !== undefined && !(n > 0))
      throw new Error(`fault ${name}=${raw}: at least some seconds (e.g. ${name}=${DEFAULTS[name]})`)
    if (name === 'offline') out.offlineS = n ?? DEFAULTS.offline
    else if (name === 'duplicates') out.duplicates = n ?? DEFAULTS.duplicates
    else if (name === 'skew') out.skew = true
    else if (name === 'malformed') out.malformed = n ?? DEFAULTS.malformed
    else if (name === 'reconnect-storm') out.reconnectStormS = n ?? DEFAULTS['reconnect-storm']
    else
      throw new Error(
        `unknown fault ${JSON.stringify(name)}; choose from offline, duplicates, skew, malformed, reconnect-storm`,
      )
  }
  return out
}

/**
 * A device clock's offset from true time. Most clocks are within a minute; some run minutes fast (still
 * accepted: the server allows 5 minutes ahead) and a few run far ahead (rejected as future readings).
 */
export function drawSkewMs(rng: Rng): number {
  const r = rng.next()
  if (r < 0.05) return 10 * 60_000
  if (r < 0.15) return 4 * 60_000
  return Math.round(rng.normal(0, 30_000))
}

/** Ways device firmware gets a payload wrong; every one of them must be dead-lettered, none stored. */
export const MALFORMED_KINDS = [
  'truncated-json',
  'string-value',
  'implausible',
  'unknown-unit',
  'no-type',
] as const
export type MalformedKind = (typeof MALFORMED_KINDS)[number]

export function malformedPayload(kind: MalformedKind, id: string, ts: string): string {
  switch (kind) {
    case 'truncated-json':
      return JSON.stringify({ id, type: 'heart-rate', ts, value: 72, unit: 'bpm' }).slice(0, 30)
    case 'string-value':
      return JSON.stringify({ id, type: 'heart-rate', ts, value: 'seventy-two', unit: 'bpm' })
    case 'implausible':
      return JSON.stringify({ id, type: 'heart-rate', ts, value: 400, unit: 'bpm' })
    case 'unknown-unit':
      return JSON.stringify({ id, type: 'body-weight', ts, value: 80, unit: 'stone-ish' })
    case 'no-type':
      return JSON.stringify({ id, ts, value: 72 })
  }
}
