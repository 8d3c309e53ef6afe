import type { Prefs } from './prefs.ts'
import type { Reading } from './store.ts'
import { displayUnit, formatNumber, toDisplay, unitLabel } from './units.ts'

export const LABELS: Record<string, string> = {
  'heart-rate': 'Heart rate',
  'respiratory-rate': 'Resp. rate',
  spo2: 'SpO₂',
  'body-temperature': 'Temperature',
  'body-weight': 'Weight',
  'blood-glucose': 'Glucose',
  'blood-pressure': 'Blood pressure',
  steps: 'Steps',
}

export const VITAL_COLUMNS = [
  'blood-pressure',
  'heart-rate',
  'spo2',
  'respiratory-rate',
  'body-temperature',
  'blood-glucose',
  'body-weight',
]

/** A value with its unit, always: never a bare number whose unit one must guess. */
export function formatReading(r: Reading, prefs: Prefs): string {
  return partsText(readingParts(r, prefs))
}

/** The text of a reading's parts (readingParts), as formatReading gives it. */
export function partsText({ value, unit }: { value: string; unit: string }): string {
  if (value === 'LO' || value === 'HI')
    return `${value} (${value === 'LO' ? 'below' : 'above'} meter range) ${unit}`
  return unit ? `${value} ${unit}` : value
}

/**
 * The value and its unit apart, for a narrow cell that must keep every digit of the value and may
 * shorten only the unit. "LO"/"HI" for a reading beyond the meter's range.
 */
export function readingParts(r: Reading, prefs: Prefs): { value: string; unit: string } {
  if (r.type === 'blood-pressure')
    return { value: `${r.values.systolic}/${r.values.diastolic}`, unit: 'mmHg' }
  const unit = unitLabel(displayUnit(r.type, prefs, r.unit))
  if (r.values.value === undefined)
    return r.interpretation === 'L'
      ? { value: 'LO', unit }
      : r.interpretation === 'H'
        ? { value: 'HI', unit }
        : { value: '—', unit: '' }
  return { value: formatNumber(r.type, toDisplay(r.type, r.values.value, prefs), prefs), unit }
}

export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86400) return `${Math.round(s / 3600)} h ago`
  return `${Math.round(s / 86400)} d ago`
}

// Formatters are built once: toLocaleString() builds a new Intl.DateTimeFormat on every call, which made
// a 1,000-row worklist spend seconds formatting times.
const TIME = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })
const DAY = new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short' })
// dateStyle/timeStyle cannot be combined with timeZoneName (TypeError in V8), so spell the fields out.
const FULL = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
})

/** Short local time: "14:05" today, "26 Nov 14:05" otherwise. Absolute, so it never needs ticking. */
export function shortTime(iso: string, now = Date.now()): string {
  const d = new Date(iso)
  const n = new Date(now)
  const today =
    n.getFullYear() === d.getFullYear() && n.getMonth() === d.getMonth() && n.getDate() === d.getDate()
  return today ? TIME.format(d) : `${DAY.format(d)} ${TIME.format(d)}`
}

export function localTime(iso: string): string {
  return FULL.format(new Date(iso))
}

/** Severity in words and a shape, so colour is never the only signal. */
export const SEVERITY_ICON: Record<string, string> = {
  critical: '✖',
  high: '▲',
  medium: '◆',
  low: '●',
}
