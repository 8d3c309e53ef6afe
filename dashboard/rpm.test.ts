import { describe, expect, it } from 'vitest'
import { createRpmDays } from './rpm.ts'

// RPM device days on the patient's calendar (dashboard/rpm.ts).

const count = (readings: [string, string?][], now: string) => {
  const days = createRpmDays()
  // [ISO as the device wrote it, or an epoch-ms reading's UTC rendering]
  for (const [effective] of readings) days.add({ effective, effectiveMs: Date.parse(effective) })
  return days.count(Date.parse(now))
}

describe('RPM device days', () => {
  it('dates a reading sent as epoch ms (UTC) on the local day of the patient, like one with an offset', () => {
    // 00:30 and 00:45 on 27 Nov in +01:00; the second came as epoch ms, so it is stored in UTC (26 Nov).
    const r: [string][] = [['2026-11-27T00:30:00+01:00'], ['2026-11-26T23:45:00.000Z']]
    expect(count(r, '2026-11-27T12:00:00Z')).toBe(1)
  })

  it('uses UTC when no reading states an offset', () => {
    expect(count([['2026-11-26T23:45:00.000Z'], ['2026-11-27T00:15:00.000Z']], '2026-11-27T12:00:00Z')).toBe(
      2,
    )
  })

  it('counts today and the 29 days before it, not 31 dates of a rolling 30 x 24 h', () => {
    const r: [string][] = Array.from({ length: 31 }, (_, i) => [
      new Date(Date.parse('2026-10-28T18:00:00Z') + i * 86_400_000).toISOString(),
    ])
    // From 28 Oct to 27 Nov are 31 dates; the period at 27 Nov 12:00 UTC is 29 Oct .. 27 Nov (30).
    expect(count(r, '2026-11-27T12:00:00Z')).toBe(30)
  })

  it('follows the offset of the most recent reading that states one', () => {
    // The patient moved from +01:00 to -05:00. On the -05:00 calendar: 20 Nov, 26 Nov (03:30Z is 22:30
    // the evening before) and 27 Nov; on the old +01:00 one the epoch reading would fall on 27 Nov too.
    const r: [string][] = [
      ['2026-11-20T10:00:00+01:00'],
      ['2026-11-27T03:30:00.000Z'],
      ['2026-11-27T14:00:00-05:00'],
    ]
    expect(count(r, '2026-11-27T20:00:00Z')).toBe(3)
  })
})
