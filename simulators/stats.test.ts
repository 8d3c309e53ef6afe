import { describe, expect, it } from 'vitest'
import { createHistogram, createStats } from './stats.ts'

describe('latency histogram', () => {
  it.each([50, 90, 99])('p%d is within 2 %% of the exact percentile', (p) => {
    const h = createHistogram()
    const xs = Array.from({ length: 10_000 }, (_, i) => 0.5 + i * 0.03)
    for (const x of xs) h.record(x)
    const exact = xs[Math.ceil((p / 100) * xs.length) - 1]
    expect(Math.abs((h.percentile(p) as number) - exact) / exact).toBeLessThan(0.021)
  })

  it('reports nothing before the first sample and the true maximum', () => {
    const h = createHistogram()
    expect(h.percentile(50)).toBeUndefined()
    h.record(3)
    h.record(700)
    expect(h.maxMs).toBe(700)
    expect(h.percentile(100)).toBe(700)
  })
})

describe('stats', () => {
  it('computes rates from an injected clock and counts rejections by code', () => {
    let t = 0
    const s = createStats(() => t)
    s.begin()
    s.counters.sent = 100
    s.counters.acked = 90
    t = 2000
    expect(s.sampleRates()).toEqual({ sentPerS: 50, ackedPerS: 45 })
    s.rejected('VW_ERR_INGEST_SCHEMA')
    s.rejected('VW_ERR_INGEST_SCHEMA')
    expect(s.summary()).toMatchObject({
      rejected: 2,
      rejectedByCode: { VW_ERR_INGEST_SCHEMA: 2 },
      ackedPerS: 45,
    })
  })
})
