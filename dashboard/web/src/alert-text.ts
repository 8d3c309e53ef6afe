import type { Prefs } from './prefs.ts'
import { MGDL_PER_MMOLL } from './units.ts'

// Alert texts are written by the server in canonical units and UTC: "Glucose 65 mg/dL, 5 below the
// limit < 70 at 2026-12-03T11:22:18.759Z". Shown as written they contradicted the rest of the screen for a
// viewer who chose mmol/L or °F (the worklist said 3.6 mmol/L), and their time was not the viewer's. Here
// the numbers of a threshold breach (the value, how far beyond, the limit) are put in the viewer's units
// and every time in the viewer's local time with its zone, any other temperature in the viewer's unit;
// anything else is shown as written.

const BREACH =
  /^(.+?) (-?\d+(?:\.\d+)?) (mg\/dL|Cel)([^,]*), (\d+(?:\.\d+)?) (below|above) the limit ([<>]=?) (-?\d+(?:\.\d+)?)(.*)$/s
const CEL = /(-?\d+(?:\.\d+)?) Cel\b/g
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2})/g

export function alertText(message: string, prefs: Prefs): string {
  let text = message
  const m = BREACH.exec(text)
  if (m) {
    const [, what, value, unit, mid, beyond, side, op, limit, rest] = m
    const n = Number
    if (unit === 'mg/dL' && prefs.glucose === 'mmol/L') {
      const c = (v: string) => (n(v) / MGDL_PER_MMOLL).toFixed(1)
      text = `${what} ${c(value)} mmol/L${mid}, ${c(beyond)} ${side} the limit ${op} ${c(limit)}${rest}`
    } else if (unit === 'Cel') {
      const f = prefs.temperature === '[degF]'
      const t = (v: string) => (f ? (n(v) * 9) / 5 + 32 : n(v)).toFixed(1)
      const d = (v: string) => (f ? (n(v) * 9) / 5 : n(v)).toFixed(1)
      text = `${what} ${t(value)} ${f ? '°F' : '°C'}${mid}, ${d(beyond)} ${side} the limit ${op} ${t(limit)}${rest}`
    }
  }
  // Any other temperature (a NEWS2 breakdown's "temp 38.4 Cel +1"): the value in the viewer's unit.
  const f = prefs.temperature === '[degF]'
  return text
    .replace(
      CEL,
      (_, v: string) => `${(f ? (Number(v) * 9) / 5 + 32 : Number(v)).toFixed(1)} ${f ? '°F' : '°C'}`,
    )
    .replace(/mm\[Hg\]/g, 'mmHg')
    .replace(ISO, (iso) => new Date(Date.parse(iso)).toLocaleString(undefined, { timeZoneName: 'short' }))
}
