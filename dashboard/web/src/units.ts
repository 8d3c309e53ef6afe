import type { Prefs } from './prefs.ts'

// Display conversions. Factors from CLINICAL.md: glucose mmol/L = mg/dL / 18.016 (molar mass 180.16 g/mol);
// °F = °C × 9/5 + 32. Every number shown carries its unit label: never a bare number.

export const MGDL_PER_MMOLL = 18.016

export const UNIT_LABEL: Record<string, string> = {
  '/min': '/min',
  '%': '%',
  Cel: '°C',
  '[degF]': '°F',
  kg: 'kg',
  'mg/dL': 'mg/dL',
  'mmol/L': 'mmol/L',
  'mm[Hg]': 'mmHg',
  '{steps}': 'steps',
  '/d': 'steps/day',
}

/** The unit a vital type is displayed in for these preferences (canonical unit otherwise). */
export function displayUnit(type: string, prefs: Prefs, canonical?: string): string {
  if (type === 'blood-glucose') return prefs.glucose
  if (type === 'body-temperature') return prefs.temperature
  return canonical ?? CANONICAL[type] ?? ''
}

export const CANONICAL: Record<string, string> = {
  'heart-rate': '/min',
  'respiratory-rate': '/min',
  spo2: '%',
  'body-temperature': 'Cel',
  'body-weight': 'kg',
  'blood-glucose': 'mg/dL',
  'blood-pressure': 'mm[Hg]',
  steps: '{steps}',
}

/** Convert a canonical value to the display unit, rounded for display. */
export function toDisplay(type: string, value: number, prefs: Prefs): number {
  if (type === 'blood-glucose')
    return prefs.glucose === 'mmol/L' ? round(value / MGDL_PER_MMOLL, 1) : Math.round(value)
  if (type === 'body-temperature')
    return prefs.temperature === '[degF]' ? round((value * 9) / 5 + 32, 1) : round(value, 1)
  if (type === 'body-weight') return round(value, 1)
  return Math.round(value)
}

export function unitLabel(unit: string): string {
  return UNIT_LABEL[unit] ?? unit
}

function round(v: number, digits: number): number {
  const f = 10 ** digits
  return Math.round(v * f) / f
}

/** Fixed decimals so 37 °C shows as 37.0 °C and a column of values lines up. */
export function formatNumber(type: string, v: number, prefs: Prefs): string {
  const decimals =
    (type === 'blood-glucose' && prefs.glucose === 'mmol/L') ||
    type === 'body-temperature' ||
    type === 'body-weight'
      ? 1
      : 0
  return v.toFixed(decimals)
}
