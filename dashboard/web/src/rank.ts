import type { AlertItem, PatientRow } from './store.ts'
import { RANK } from './store.ts'

// Who needs attention first: open (unacknowledged) alerts by severity, then the NEWS2 score, then
// acknowledged alerts still running, then stale data (no reading for STALE_MS), then name.

export const STALE_MS = 24 * 3600_000
// One collator for every comparison: String.localeCompare builds one per call, and sorting 1,000 rows
// every frame made that the worklist's biggest cost under a stream.
const NAMES = new Intl.Collator(undefined, { numeric: true })

export interface Attention {
  /** Highest severity among open, unacknowledged alerts (4 critical … 0 none). */
  openRank: number
  openCount: number
  news2?: number
  ackRank: number
  ackCount: number
  /** Time of the newest reading of any type, or undefined when none. */
  lastReadingMs?: number
  stale: boolean
}

export function attentionOf(p: PatientRow, alerts: AlertItem[], nowMs: number): Attention {
  let openRank = 0
  let openCount = 0
  let ackRank = 0
  let ackCount = 0
  let news2: number | undefined
  for (const a of alerts) {
    if (a.status === 'resolved') continue
    if (a.status === 'open') {
      openCount++
      openRank = Math.max(openRank, RANK[a.severity])
    } else {
      ackCount++
      ackRank = Math.max(ackRank, RANK[a.severity])
    }
    if (a.rule === 'news2' && typeof a.score === 'number') news2 = Math.max(news2 ?? 0, a.score)
  }
  let last: number | undefined
  for (const r of Object.values(p.latest)) {
    const t = Date.parse(r.effective)
    if (!Number.isNaN(t) && (last === undefined || t > last)) last = t
  }
  const stale = p.monitoring !== false && (last === undefined || nowMs - last > STALE_MS)
  return { openRank, openCount, news2, ackRank, ackCount, lastReadingMs: last, stale }
}

export function compareAttention(
  a: { p: PatientRow; at: Attention },
  b: { p: PatientRow; at: Attention },
): number {
  return (
    b.at.openRank - a.at.openRank ||
    b.at.openCount - a.at.openCount ||
    (b.at.news2 ?? -1) - (a.at.news2 ?? -1) ||
    b.at.ackRank - a.at.ackRank ||
    Number(b.at.stale) - Number(a.at.stale) ||
    // The longer the silence, the higher: never-reported patients first among the stale.
    (a.at.stale ? (a.at.lastReadingMs ?? 0) - (b.at.lastReadingMs ?? 0) : 0) ||
    Number(a.p.monitoring === false) - Number(b.p.monitoring === false) ||
    NAMES.compare(a.p.name, b.p.name) ||
    NAMES.compare(a.p.id, b.p.id)
  )
}

export function rankPatients(
  patients: Iterable<PatientRow>,
  alertsByPatient: Map<string, AlertItem[]>,
  nowMs: number,
): { p: PatientRow; at: Attention }[] {
  const rows = [...patients].map((p) => ({ p, at: attentionOf(p, alertsByPatient.get(p.id) ?? [], nowMs) }))
  return rows.sort(compareAttention)
}

export function groupByPatient(alerts: Iterable<AlertItem>): Map<string, AlertItem[]> {
  const m = new Map<string, AlertItem[]>()
  for (const a of alerts) {
    if (a.status === 'resolved') continue
    const list = m.get(a.patientId)
    if (list) list.push(a)
    else m.set(a.patientId, [a])
  }
  return m
}

/**
 * `order` was sorted by `compare`; only the `moved` keys may have changed rank since. Re-place just those
 * (binary search) instead of sorting the whole list again: same result, a few dozen comparisons.
 */
export function placeMoved(
  order: string[],
  moved: string[],
  compare: (a: string, b: string) => number,
): string[] {
  // Take them all out first, so each binary search runs over a list that is in order.
  const out = new Set(moved)
  const next = order.filter((k) => !out.has(k))
  for (const k of out) {
    let lo = 0
    let hi = next.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (compare(next[mid], k) < 0) lo = mid + 1
      else hi = mid
    }
    next.splice(lo, 0, k)
  }
  return next
}
