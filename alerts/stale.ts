import type { VitalType } from '../shared/catalog.ts'
import type { Device } from '../storage/ports.ts'
import { fmtDuration } from './evaluate.ts'
import type { DeviceOfflineRule, NoDataRule, Program } from './rules.ts'

// Pure scheduled checks: no-data (cadence-aware) and device-offline. A BP cuff used twice a day is not
// silent after an hour; a wearable that reports every few minutes is.

const MIN = 60_000

export interface Silence {
  type: VitalType
  /** Last reading of this type, if any. */
  lastMs?: number
  silentAfterMs: number
  /** Where the expected cadence came from. */
  basis: 'configured' | 'learned' | 'default'
}

/**
 * Median interval between readings (newest first); needs at least 3 readings to be trusted. Readings
 * less than `sessionMs` apart are one session (a cuff measured twice a minute apart, a BP reading and
 * its pulse): when there are 3 sessions or more, the interval is the one between sessions, so a cuff used
 * twice a day is not learned as a one-minute cadence. A device that reports more often than that (a
 * wearable) is all one session and keeps its own interval.
 */
export function learnedCadenceMs(timesDesc: number[], sessionMs = 0): number | undefined {
  if (timesDesc.length < 3) return undefined
  const sessions = timesDesc.filter((t, i) => i === 0 || timesDesc[i - 1] - t >= sessionMs)
  const times = sessions.length >= 3 ? sessions : timesDesc
  const gaps = times
    .slice(1)
    .map((t, i) => times[i] - t)
    .sort((a, b) => a - b)
  return gaps[Math.floor(gaps.length / 2)] || undefined
}

/** How long without a reading of `type` before the patient counts as silent. */
export function silentAfter(
  rule: NoDataRule,
  type: VitalType,
  ctx: { program?: Program; deviceType?: string; learnedMs?: number },
): Pick<Silence, 'silentAfterMs' | 'basis'> {
  const configured =
    (ctx.deviceType ? rule.cadenceMinutes[ctx.deviceType] : undefined) ??
    ctx.program?.cadenceMinutes[type] ??
    rule.cadenceMinutes[type]
  const floor = rule.minSilentMinutes * MIN
  if (configured !== undefined)
    return { silentAfterMs: Math.max(configured * MIN * rule.missedReadings, floor), basis: 'configured' }
  if (ctx.learnedMs !== undefined) {
    const ms = Math.min(Math.max(ctx.learnedMs * rule.missedReadings, floor), rule.afterHours * 60 * MIN)
    return { silentAfterMs: ms, basis: 'learned' }
  }
  return { silentAfterMs: rule.afterHours * 60 * MIN, basis: 'default' }
}

/**
 * The silences among `entries` at `nowMs`; `sinceMs` (enrollment) stands in for a type never seen, and
 * no silence counts from before `resumedMs` (monitoring resumed after a pause).
 */
export function silentTypes(entries: Silence[], nowMs: number, sinceMs: number, resumedMs = 0): Silence[] {
  return entries.filter((e) => nowMs - Math.max(e.lastMs ?? sinceMs, resumedMs) >= e.silentAfterMs)
}

/** Stable text (no running durations), so a scheduled re-check does not push an unchanged alert. */
export function noDataMessage(silent: Silence[]): string {
  return silent
    .map((s) => {
      const expected = `silent after ${fmtDuration(s.silentAfterMs)}, ${s.basis} cadence`
      if (s.lastMs === undefined) return `No ${s.type} reading yet (${expected})`
      return `No ${s.type} reading since ${new Date(s.lastMs).toISOString()} (${expected})`
    })
    .join('; ')
}

export interface DeviceProblem {
  deviceId: string
  offlineMs?: number
  lastSeenMs?: number
  enrolledMs?: number
  battery?: number
}

/**
 * Devices not seen for `offlineHours` (never seen: counted from enrollment; nor before `sinceMs`, when
 * monitoring resumed after a pause) or at low battery.
 */
export function deviceProblems(
  rule: DeviceOfflineRule,
  devices: Device[],
  nowMs: number,
  sinceMs = 0,
  /** Devices the live alert already reports a low battery for: low until above the margin. */
  lowAlready: ReadonlySet<string> = new Set(),
): DeviceProblem[] {
  const out: DeviceProblem[] = []
  for (const d of devices) {
    if (d.revokedMs !== undefined) continue
    const seen = Math.max(d.lastSeenMs ?? d.createdMs, sinceMs)
    const offline = nowMs - seen >= rule.offlineHours * 60 * MIN
    const limit = rule.batteryPct + (lowAlready.has(d.id) ? rule.batteryMargin : 0)
    const low = d.battery !== undefined && d.battery <= limit
    if (offline || low)
      out.push({
        deviceId: d.id,
        ...(offline ? { offlineMs: nowMs - seen, lastSeenMs: d.lastSeenMs, enrolledMs: d.createdMs } : {}),
        ...(low ? { battery: d.battery } : {}),
      })
  }
  return out
}

export function deviceMessage(rule: DeviceOfflineRule, problems: DeviceProblem[]): string {
  return problems
    .map((p) => {
      const parts: string[] = []
      if (p.offlineMs !== undefined)
        parts.push(
          p.lastSeenMs === undefined
            ? `never seen since enrollment at ${new Date(p.enrolledMs!).toISOString()} (limit ${rule.offlineHours} h)`
            : `not seen since ${new Date(p.lastSeenMs).toISOString()} (limit ${rule.offlineHours} h)`,
        )
      if (p.battery !== undefined)
        parts.push(
          p.battery > rule.batteryPct
            ? `battery ${p.battery} % (limit ${rule.batteryPct} %; low until above ${rule.batteryPct + rule.batteryMargin} %)`
            : `battery ${p.battery} % (limit ${rule.batteryPct} %)`,
        )
      return `${rule.label} ${p.deviceId} ${parts.join(', ')}`
    })
    .join('; ')
}
