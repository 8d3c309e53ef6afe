import type { AuditEntry } from '../storage/ports.ts'

// A request without credentials to a protected route is the one audited event anyone who can reach the
// port can cause at will, and the audit trail is never pruned (it must be kept for years): one row per
// such request let a script fill the disk. Here the first such denial from an address in a window is
// recorded as it is, and the rest from that address in the same window become one summary entry at the
// window's end: how many, between which times, on which routes. Nothing is dropped from the record, and
// the rows one address can cause are bounded to two a window; a flood from more addresses than the
// table holds is summarised under "*" (every address beyond) instead.

export const DENIAL_WINDOW_MS = 60_000
const MAX_ADDRESSES = 10_000
const MAX_ROUTES = 20

interface Window {
  startMs: number
  lastMs: number
  repeats: number
  routes: Set<string>
  /** Why they were denied: unauthenticated, origin (a change sent from another page's origin). */
  reasons: Set<string>
}

type Sink = { append(e: AuditEntry): void }

// Also requests from another page's origin (origin.ts): such a page can send them in a loop.
const isAnonymousDenial = (e: AuditEntry) =>
  e.actor === 'anonymous' &&
  e.outcome === 'denied' &&
  (e.detail?.reason === 'unauthenticated' || e.detail?.reason === 'origin')

export function throttleAnonymousDenials<A extends Sink>(
  audit: A,
  opts: { windowMs?: number; maxAddresses?: number; now?: () => number } = {},
): A & { flush(all?: boolean): void; close(): void } {
  const windowMs = opts.windowMs ?? DENIAL_WINDOW_MS
  const maxAddresses = opts.maxAddresses ?? MAX_ADDRESSES
  const now = opts.now ?? Date.now
  const windows = new Map<string, Window>()

  function summarise(ip: string, w: Window) {
    if (w.repeats === 0) return
    audit.append({
      actor: 'anonymous',
      action: 'access:repeated',
      outcome: 'denied',
      ...(ip === '*' ? {} : { ip }),
      detail: {
        reason: [...w.reasons].sort().join('+'),
        repeats: w.repeats,
        from: new Date(w.startMs).toISOString(),
        to: new Date(w.lastMs).toISOString(),
        routes: [...w.routes],
        ...(ip === '*' ? { addresses: `beyond the first ${maxAddresses} in this window` } : {}),
      },
    })
  }

  /** Write the summaries of windows that have ended (all of them when `all`). */
  function flush(all = false) {
    const t = now()
    for (const [ip, w] of windows) {
      if (!all && t - w.startMs < windowMs) continue
      summarise(ip, w)
      windows.delete(ip)
    }
  }

  const timer = setInterval(() => flush(), windowMs)
  timer.unref()

  function append(e: AuditEntry) {
    if (!isAnonymousDenial(e)) return audit.append(e)
    const t = now()
    let ip = e.ip ?? 'unknown'
    let w = windows.get(ip)
    if (w && t - w.startMs >= windowMs) {
      summarise(ip, w)
      windows.delete(ip)
      w = undefined
    }
    if (!w && windows.size >= maxAddresses) {
      ip = '*'
      w = windows.get(ip) ?? { startMs: t, lastMs: t, repeats: 0, routes: new Set(), reasons: new Set() }
      windows.set(ip, w)
    }
    if (!w) {
      windows.set(ip, { startMs: t, lastMs: t, repeats: 0, routes: new Set(), reasons: new Set() })
      return audit.append(e)
    }
    w.repeats++
    w.lastMs = t
    if (w.routes.size < MAX_ROUTES) w.routes.add(e.action)
    w.reasons.add(String(e.detail?.reason))
  }

  return {
    ...audit,
    append,
    flush,
    close() {
      clearInterval(timer)
      flush(true)
    },
  }
}
