// Token buckets: per-device message rate and per-address connection attempts.

export interface TokenBucket {
  take(nowMs: number, n?: number): boolean
}

export function createTokenBucket(ratePerS: number, burst: number, startMs: number): TokenBucket {
  let tokens = burst
  let last = startMs
  return {
    take(nowMs, n = 1) {
      tokens = Math.min(burst, tokens + ((nowMs - last) / 1000) * ratePerS)
      last = nowMs
      if (tokens < n) return false
      tokens -= n
      return true
    },
  }
}

/** Buckets keyed by a string (an IP address), forgotten when idle so memory stays bounded. */
export function createKeyedLimiter(ratePerS: number, burst: number, now: () => number = Date.now) {
  const buckets = new Map<string, { bucket: TokenBucket; lastMs: number }>()
  let sweepAt = now() + 60_000
  return {
    take(key: string): boolean {
      const t = now()
      if (t > sweepAt) {
        for (const [k, v] of buckets) if (t - v.lastMs > 120_000) buckets.delete(k)
        sweepAt = t + 60_000
      }
      let b = buckets.get(key)
      if (!b) {
        b = { bucket: createTokenBucket(ratePerS, burst, t), lastMs: t }
        buckets.set(key, b)
      }
      b.lastMs = t
      return b.bucket.take(t)
    },
  }
}
