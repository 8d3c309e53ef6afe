import { describe, expect, it } from 'vitest'
import { heartRates, NOW_MS, observe } from '../../test/contract/fixtures.ts'
import { parseRetryAfter } from './http.ts'
import { fnv1a32, isUtcIsoOf, literal, timestampNs, toLine } from './schema.ts'

describe('point schema', () => {
  it('puts a reading at effective ms plus a stable sub-millisecond offset from its key', () => {
    const [o] = heartRates('d1', 'p1', 1, NOW_MS - 60_000)
    const ns = timestampNs(o.effectiveMs, o.key)
    expect(ns / 1_000_000n).toBe(BigInt(o.effectiveMs))
    expect(ns % 1_000_000n).toBe(BigInt(fnv1a32('d1:hr-0') % 1_000_000))
    // FNV-1a test vector: the offset must never change between versions, or replays would duplicate.
    expect(fnv1a32('a')).toBe(0xe40c292c)
    expect(toLine(o)).toMatch(new RegExp(`^heart-rate,device_id=d1,patient_id=p1 .* ${ns}$`))
    // The timestamp carries the effective time; it is not repeated as a field.
    expect(toLine(o)).not.toMatch(/effective_ms=/)
  })

  it('writes tags with pseudonymous ids only and the values as float fields', () => {
    const [bp] = observe('cuff-1', 'p-9', {
      id: 'b',
      type: 'blood-pressure',
      systolic: 120,
      diastolic: 80,
      ts: NOW_MS,
    })
    const line = toLine(bp)
    expect(line.split(' ')[0]).toBe('blood-pressure,device_id=cuff-1,patient_id=p-9')
    expect(line).toMatch(/,systolic=120,|,systolic=120 /)
    expect(line).toMatch(/diastolic=80[ ,]/)
  })

  it('refuses a value whose name clashes with a schema field', () => {
    const [o] = heartRates('d1', 'p1', 1, NOW_MS - 60_000)
    expect(() => toLine({ ...o, values: { key: 1 } })).toThrow(/clashes/)
  })

  it('knows a plain UTC effective time exactly as toISOString renders it, and nothing else', () => {
    // Random instants across 0000-9999, leap days and the ends of days, months and years.
    const instants = [0, -1, 951_782_400_000, 253_402_300_799_999, -62_167_219_200_000, NOW_MS]
    for (let i = 0; i < 20_000; i++)
      instants.push(Math.floor((Math.random() * 2 - 0.5) * 253_402_300_799_999))
    for (const ms of instants) {
      const iso = new Date(ms).toISOString()
      expect(isUtcIsoOf(iso, ms), iso).toBe(iso.length === 24)
      expect(isUtcIsoOf(iso, ms + 1), iso).toBe(false)
    }
    // What Date.parse would read as the same instant but is not the same text: kept as written.
    const ms = Date.parse('2026-03-02T10:00:00.000Z')
    for (const s of ['2026-02-30T10:00:00.000Z', '2026-03-02 10:00:00.000Z', '2026-03-02t10:00:00.000Z'])
      expect(isUtcIsoOf(s, ms), s).toBe(false)
    expect(isUtcIsoOf('2026-03-01T24:00:00.000Z', Date.parse('2026-03-02T00:00:00.000Z'))).toBe(false)
    expect(isUtcIsoOf('2026-03-02T10:00:00.000+00:00', ms)).toBe(false)
  })

  it('escapes InfluxQL string literals', () => {
    expect(literal(`o'brien\\`)).toBe(`'o\\'brien\\\\'`)
  })

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000)
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000)
    expect(parseRetryAfter('soon')).toBeUndefined()
    expect(parseRetryAfter(undefined)).toBeUndefined()
  })
})
