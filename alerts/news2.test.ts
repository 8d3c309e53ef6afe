import { describe, expect, it } from 'vitest'
import {
  oxygenPoints,
  pulsePoints,
  respiratoryRatePoints,
  scoreNews2,
  spo2Scale1Points,
  spo2Scale2Points,
  systolicPoints,
  temperaturePoints,
} from './news2.ts'

// Every band edge of the NEWS2 table in shared/reference/CLINICAL.md, plus the rounding rules.

const table = (fn: (v: number) => number, rows: [number, number][]) =>
  it.each(rows)('%s -> %s', (v, points) => expect(fn(v)).toBe(points))

describe('NEWS2 respiration rate', () =>
  table(respiratoryRatePoints, [
    [5, 3],
    [8, 3],
    [8.4, 3],
    [8.5, 1],
    [9, 1],
    [11, 1],
    [11.5, 0],
    [12, 0],
    [20, 0],
    [20.5, 2],
    [21, 2],
    [24, 2],
    [24.49, 2],
    [24.5, 3],
    [25, 3],
    [40, 3],
  ]))

describe('NEWS2 SpO2 scale 1', () =>
  table(spo2Scale1Points, [
    [70, 3],
    [91, 3],
    [91.5, 2],
    [92, 2],
    [93, 2],
    [94, 1],
    [95, 1],
    [95.5, 0],
    [96, 0],
    [100, 0],
  ]))

describe('NEWS2 SpO2 scale 2 on air', () =>
  table(
    (v) => spo2Scale2Points(v, false),
    [
      [80, 3],
      [83, 3],
      [84, 2],
      [85, 2],
      [86, 1],
      [87, 1],
      [88, 0],
      [92, 0],
      [93, 0],
      [97, 0],
      [100, 0],
    ],
  ))

describe('NEWS2 SpO2 scale 2 on oxygen', () =>
  table(
    (v) => spo2Scale2Points(v, true),
    [
      [83, 3],
      [84, 2],
      [85, 2],
      [86, 1],
      [87, 1],
      [88, 0],
      [92, 0],
      [93, 1],
      [94, 1],
      [95, 2],
      [96, 2],
      [97, 3],
      [100, 3],
    ],
  ))

describe('NEWS2 air or oxygen', () => {
  it('scores oxygen 2 and air 0', () => {
    expect(oxygenPoints(true)).toBe(2)
    expect(oxygenPoints(false)).toBe(0)
  })
})

describe('NEWS2 systolic BP', () =>
  table(systolicPoints, [
    [70, 3],
    [90, 3],
    [90.5, 2],
    [91, 2],
    [100, 2],
    [101, 1],
    [110, 1],
    [111, 0],
    [219, 0],
    [219.5, 3],
    [220, 3],
    [250, 3],
  ]))

describe('NEWS2 pulse', () =>
  table(pulsePoints, [
    [30, 3],
    [40, 3],
    [41, 1],
    [50, 1],
    [51, 0],
    [90, 0],
    [91, 1],
    [110, 1],
    [111, 2],
    [130, 2],
    [130.5, 3],
    [131, 3],
    [180, 3],
  ]))

describe('NEWS2 temperature (rounded to 0.1 first)', () =>
  table(temperaturePoints, [
    [34, 3],
    [35.0, 3],
    [35.04, 3],
    [35.05, 1],
    [35.1, 1],
    [36.0, 1],
    [36.1, 0],
    [38.0, 0],
    [38.04, 0],
    [38.05, 1],
    [38.1, 1],
    [39.0, 1],
    [39.1, 2],
    [41, 2],
  ]))

describe('NEWS2 aggregate', () => {
  it.each([
    [{ onOxygen: false, hypercapnic: false }, 0, false],
    [{ onOxygen: true, hypercapnic: false }, 2, false],
    [{ respiratoryRate: 25, onOxygen: false, hypercapnic: false }, 3, true],
    [{ respiratoryRate: 22, spo2: 94, pulse: 105, onOxygen: false, hypercapnic: false }, 4, false],
    [{ respiratoryRate: 22, spo2: 93, pulse: 105, onOxygen: false, hypercapnic: false }, 5, false],
    [
      { respiratoryRate: 22, spo2: 93, pulse: 115, temperature: 39.2, onOxygen: true, hypercapnic: false },
      10,
      false,
    ],
    [{ spo2: 89, onOxygen: false, hypercapnic: true }, 0, false],
    [{ spo2: 89, onOxygen: false, hypercapnic: false }, 3, true],
    [{ systolic: 95, consciousness: 'confused' as const, onOxygen: false, hypercapnic: false }, 5, true],
  ])('%o scores %s (any 3: %s)', (input, total, anyThree) => {
    const r = scoreNews2(input)
    expect(r.total).toBe(total)
    expect(r.anyThree).toBe(anyThree)
  })

  it('keeps a per-parameter breakdown with the scale used and consciousness assumed alert', () => {
    const r = scoreNews2({ spo2: 95, pulse: 120, onOxygen: true, hypercapnic: true })
    expect(r.breakdown).toEqual({
      spo2: { value: 95, points: 2, note: 'scale 2' },
      oxygen: { value: 1, points: 2, note: 'oxygen' },
      pulse: { value: 120, points: 2 },
      consciousness: { value: 0, points: 0, note: 'alert (assumed)' },
    })
    expect(r.total).toBe(6)
  })
})
