// Live counters and publish->PUBACK latency for a running simulation. The latency histogram uses
// log-spaced buckets (2 % wide) so a million samples cost a few kilobytes and percentiles stay within 2 %.

const GROWTH = 1.02
const MIN_MS = 0.01
const bucketOf = (ms: number) =>
  Math.max(0, Math.floor(Math.log(Math.max(ms, MIN_MS) / MIN_MS) / Math.log(GROWTH)))
const upperOf = (b: number) => MIN_MS * GROWTH ** (b + 1)

export function createHistogram() {
  const buckets = new Map<number, number>()
  let count = 0
  let maxMs = 0
  return {
    record(ms: number) {
      const b = bucketOf(ms)
      buckets.set(b, (buckets.get(b) ?? 0) + 1)
      count++
      if (ms > maxMs) maxMs = ms
    },
    get count() {
      return count
    },
    percentile(p: number): number | undefined {
      if (count === 0) return undefined
      const rank = Math.ceil((p / 100) * count)
      let seen = 0
      for (const b of [...buckets.keys()].sort((x, y) => x - y)) {
        seen += buckets.get(b) ?? 0
        if (seen >= rank) return Math.min(upperOf(b), maxMs)
      }
      return maxMs
    },
    get maxMs() {
      return maxMs
    },
  }
}
export type Histogram = ReturnType<typeof createHistogram>

export function createStats(now: () => number = performance.now.bind(performance)) {
  let startedMs = now()
  const latency = createHistogram()
  const rejectedByCode: Record<string, number> = {}
  const c = {
    /** Messages published (a batch counts once) and readings inside them. */
    sent: 0,
    readingsSent: 0,
    /** Readings whose message was acknowledged, each counted once however often it was retried. */
    readingsAcked: 0,
    acked: 0,
    /** Publishes that failed (connection lost before PUBACK); the device retries them. */
    publishErrors: 0,
    retried: 0,
    rejected: 0,
    duplicatesSent: 0,
    malformedSent: 0,
    buffered: 0,
    replayed: 0,
    /** Readings still buffered by an offline device, or awaiting a retry, when the run ended: never sent. */
    unsent: 0,
    connects: 0,
    connectFailures: 0,
    disconnects: 0,
    silentSkipped: 0,
  }
  let window = { atMs: startedMs, sent: 0, acked: 0 }
  let rates = { sentPerS: 0, ackedPerS: 0 }
  return {
    counters: c,
    lastError: undefined as string | undefined,
    latency,
    rejectedByCode,
    /** Start the clock for rates (after the fleet has connected). */
    begin() {
      startedMs = now()
      window = { atMs: startedMs, sent: c.sent, acked: c.acked }
    },
    rejected(code: string) {
      c.rejected++
      rejectedByCode[code] = (rejectedByCode[code] ?? 0) + 1
    },
    /** Rates over the time since the previous call (call about once a second). */
    sampleRates() {
      const t = now()
      const dt = (t - window.atMs) / 1000
      if (dt > 0) rates = { sentPerS: (c.sent - window.sent) / dt, ackedPerS: (c.acked - window.acked) / dt }
      window = { atMs: t, sent: c.sent, acked: c.acked }
      return rates
    },
    summary() {
      const elapsedS = (now() - startedMs) / 1000
      const p = (q: number) => round(latency.percentile(q))
      return {
        elapsedS: round(elapsedS),
        ...c,
        lastError: this.lastError,
        rejectedByCode: { ...rejectedByCode },
        ackedPerS: round(c.acked / Math.max(elapsedS, 1e-9)),
        pubackLatencyMs: { p50: p(50), p90: p(90), p99: p(99), max: round(latency.maxMs) },
      }
    },
  }
}
export type Stats = ReturnType<typeof createStats>
export type Summary = ReturnType<Stats['summary']>

function round(x: number | undefined): number {
  return x === undefined ? 0 : Math.round(x * 100) / 100
}

/** One status line for a terminal (refreshed in place by the CLI). */
export function statusLine(
  s: Summary,
  rates: { sentPerS: number; ackedPerS: number },
  connected: number,
): string {
  const l = s.pubackLatencyMs
  return (
    `${s.elapsedS.toFixed(0)}s  devices ${connected}  sent ${s.sent} (${rates.sentPerS.toFixed(0)}/s)  ` +
    `acked ${s.acked} (${rates.ackedPerS.toFixed(0)}/s)  rejected ${s.rejected}  dup ${s.duplicatesSent}  ` +
    `buffered ${s.buffered}  latency p50 ${l.p50} p99 ${l.p99} ms`
  )
}
