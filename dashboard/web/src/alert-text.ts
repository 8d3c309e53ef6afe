import type { Prefs } from './prefs.ts'
import { formatNumber, toDisplay, unitLabel } from './units.ts'

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
  // A value in the viewer's unit, as the worklist shows it.
  const shown = (type: string, v: string) => formatNumber(type, toDisplay(type, Number(v), prefs), prefs)
  const temperature = unitLabel(prefs.temperature)
  let text = message
  const m = BREACH.exec(text)
  if (m) {
    const [, what, value, unit, mid, beyond, side, op, limit, rest] = m
    if (unit === 'mg/dL' && prefs.glucose === 'mmol/L') {
      const c = (v: string) => shown('blood-glucose', v)
      text = `${what} ${c(value)} mmol/L${mid}, ${c(beyond)} ${side} the limit ${op} ${c(limit)}${rest}`
    } else if (unit === 'Cel') {
      const t = (v: string) => shown('body-temperature', v)
      // A difference, not a temperature: scaled, without the offset.
      const d = (v: string) => (prefs.temperature === '[degF]' ? (Number(v) * 9) / 5 : Number(v)).toFixed(1)
      text = `${what} ${t(value)} ${temperature}${mid}, ${d(beyond)} ${side} the limit ${op} ${t(limit)}${rest}`
    }
  }
  // Any other temperature (a NEWS2 breakdown's "temp 38.4 Cel +1"): the value in the viewer's unit.
  return localTimes(
    text
      .replace(CEL, (_, v: string) => `${shown('body-temperature', v)} ${temperature}`)
      .replace(/mm\[Hg\]/g, 'mmHg'),
  )
}

/**
 * Every time in a server's text (a history note "until 2026-12-03T18:42:28.648Z", an error "resolved
 * by ... at ...") in the viewer's local time with its zone, like the rest of the screen.
 */
export function localTimes(text: string): string {
  return text.replace(ISO, (iso) =>
    new Date(Date.parse(iso)).toLocaleString(undefined, { timeZoneName: 'short' }),
  )
}
