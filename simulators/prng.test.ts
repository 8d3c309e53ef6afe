import { describe, expect, it } from 'vitest'
import { createRng } from './prng.ts'

describe('createRng', () => {
  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const a = Array.from({ length: 5 }, createRng(42).next)
    const seq = (seed: number) => {
      const r = createRng(seed)
      return Array.from({ length: 5 }, () => r.next())
    }
    expect(seq(42)).toEqual(seq(42))
    expect(seq(42)).not.toEqual(seq(43))
    expect(a).toHaveLength(5)
  })

  it('forks independent, reproducible streams by label', () => {
    const root = createRng(7)
    expect(root.fork('dev-1').next()).toBe(createRng(7).fork('dev-1').next())
    expect(root.fork('dev-1').next()).not.toBe(root.fork('dev-2').next())
  })

  it.each([
    [0, 1],
    [100, 15],
  ])('draws normals with mean %d and sd %d', (mean, sd) => {
    const r = createRng(1)
    const xs = Array.from({ length: 20_000 }, () => r.normal(mean, sd))
    const m = xs.reduce((a, b) => a + b, 0) / xs.length
    const s = Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length)
    expect(Math.abs(m - mean)).toBeLessThan(sd * 0.05)
    expect(Math.abs(s - sd)).toBeLessThan(sd * 0.05)
  })

  it('keeps uniforms and ints in range', () => {
    const r = createRng(3)
    for (let i = 0; i < 1000; i++) {
      const u = r.uniform(2, 5)
      const n = r.int(1, 6)
      expect(u >= 2 && u < 5).toBe(true)
      expect(Number.isInteger(n) && n >= 1 && n <= 6).toBe(true)
    }
  })
})
