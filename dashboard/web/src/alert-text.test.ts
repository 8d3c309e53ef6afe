import { describe, expect, it } from 'vitest'
import { alertText, localTimes } from './alert-text.ts'
import type { Prefs } from './prefs.ts'

// The server's alert texts in the viewer's units and time (alert-text.ts). The texts are the ones
// alerts/evaluate.ts writes (breachMessage).

const prefs = (glucose: Prefs['glucose'], temperature: Prefs['temperature']): Prefs => ({
  glucose,
  temperature,
  sound: false,
})
const at = '2026-12-03T11:22:18.759Z'
const local = new Date(Date.parse(at)).toLocaleString(undefined, { timeZoneName: 'short' })

describe('alert texts in the viewer units', () => {
  it.each([
    [
      'glucose in mmol/L',
      `Glucose 65 mg/dL, 5 below the limit < 70 at ${at}`,
      prefs('mmol/L', 'Cel'),
      `Glucose 3.6 mmol/L, 0.3 below the limit < 3.9 at ${local}`,
    ],
    [
      'glucose kept in mg/dL',
      `Glucose 65 mg/dL, 5 below the limit < 70 at ${at}`,
      prefs('mg/dL', 'Cel'),
      `Glucose 65 mg/dL, 5 below the limit < 70 at ${local}`,
    ],
    [
      'temperature in °F (the difference converted as a difference)',
      `Temperature 38.4 Cel, 0.4 above the limit > 38 at ${at}. Check for infection`,
      prefs('mg/dL', '[degF]'),
      `Temperature 101.1 °F, 0.7 above the limit > 100.4 at ${local}. Check for infection`,
    ],
    [
      'temperature in °C',
      `Temperature 38.4 Cel, 0.4 above the limit > 38 at ${at}`,
      prefs('mg/dL', 'Cel'),
      `Temperature 38.4 °C, 0.4 above the limit > 38.0 at ${local}`,
    ],
    [
      'blood pressure: mmHg, not the UCUM code',
      `systolic blood pressure 196 mm[Hg] (196/120), 16 above the limit >= 180 at ${at}`,
      prefs('mmol/L', '[degF]'),
      `systolic blood pressure 196 mmHg (196/120), 16 above the limit >= 180 at ${local}`,
    ],
    [
      'a NEWS2 breakdown: its temperature in °F',
      `NEWS2 7 (total >= 7: emergency response): RR 28 /min +3, temp 39.1 Cel +1, SpO2 91 % scale 1 +2; latest values within 60 min; since ${at}`,
      prefs('mg/dL', '[degF]'),
      `NEWS2 7 (total >= 7: emergency response): RR 28 /min +3, temp 102.4 °F +1, SpO2 91 % scale 1 +2; latest values within 60 min; since ${local}`,
    ],
    [
      'a NEWS2 breakdown: its temperature in °C',
      `NEWS2 5: temp 35.0 Cel +1 at ${at}`,
      prefs('mg/dL', 'Cel'),
      `NEWS2 5: temp 35.0 °C +1 at ${local}`,
    ],
    [
      'a meter LO: only the time changes',
      `Glucose below the meter's measuring range (LO) at ${at}`,
      prefs('mmol/L', 'Cel'),
      `Glucose below the meter's measuring range (LO) at ${local}`,
    ],
  ])('%s', (_name, message, p, expected) => {
    expect(alertText(message, p)).toBe(expected)
  })
})

describe('localTimes', () => {
  it('puts every time of a server text in local time and leaves the rest as written', () => {
    expect(localTimes(`until ${at}; resolved by a@b.org at ${at}`)).toBe(
      `until ${local}; resolved by a@b.org at ${local}`,
    )
    expect(localTimes('Called her at 10:30, fine.')).toBe('Called her at 10:30, fine.')
  })
})
