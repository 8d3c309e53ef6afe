import {
  type Bounds,
  BP_COMPONENTS,
  DAILY_STEPS,
  DAILY_TOTAL,
  roundTo,
  UNIT_REQUIRED,
  type VitalType,
  vital,
} from '../shared/catalog.ts'
import type { ErrorCode } from '../shared/errors.ts'
import { ISO_WITH_OFFSET, type Reading } from './reading-schema.ts'

// Pure: a schema-valid reading -> values in canonical UCUM units, checked for plausibility, with its time.
// Returns a result instead of throwing: one bad reading must never stop a batch or a worker.

export interface NormalizeLimits {
  nowMs: number
  maxFutureMs: number
  maxAgeMs: number
}

export interface Normalized {
  type: VitalType
  readingId: string
  /** effectiveDateTime as FHIR wants it, keeping the offset the device sent. */
  effective: string
  effectiveMs: number
  values: Record<string, number>
  /** glucose meters: 'L' for LO, 'H' for HI (no value). */
  outOfRange?: 'L' | 'H'
  flags: string[]
  pulse?: number
  battery?: number
  /** Parts refused while the reading itself is kept (an implausible pulse, a battery level over 100). */
  dropped?: { code: ErrorCode; message: string }[]
}

export type NormalizeResult =
  | { ok: true; reading: Normalized }
  | { ok: false; code: ErrorCode; message: string }

const fail = (code: ErrorCode, message: string): NormalizeResult => ({ ok: false, code, message })

/**
 * The value in the canonical unit: `exact` as converted, `value` rounded as CLINICAL.md says. Plausible
 * ranges are checked on `exact` (SpO2 49.5 % is below 50-100 even though it rounds to 50).
 */
export function convertUnit(
  type: VitalType,
  value: number,
  unit: string | undefined,
): { ok: true; value: number; exact: number } | { ok: false; message: string } {
  const def = vital(type)
  if (unit === undefined) {
    if (UNIT_REQUIRED.has(type)) {
      return {
        ok: false,
        message: `unit is required for ${type} (e.g. ${Object.keys(def.units).slice(0, 3).join(', ')})`,
      }
    }
    // A pulse oximeter sending a 0-1 fraction without a unit.
    if (type === 'spo2' && value <= 1) return converted(value * 100, def.decimals)
    return converted(value, def.decimals)
  }
  if (type === 'spo2' && unit === '1') return converted(value * 100, def.decimals)
  const alias = def.units[unit]
  if (!alias) {
    return {
      ok: false,
      message: `unit ${JSON.stringify(unit)} is not accepted for ${type}; use one of ${Object.keys(def.units).join(', ')}`,
    }
  }
  return converted((value + (alias.preOffset ?? 0)) * alias.factor + (alias.offset ?? 0), def.decimals)
}

function converted(exact: number, decimals: number): { ok: true; value: number; exact: number } {
  return { ok: true, value: roundTo(exact, decimals), exact }
}

function outside(value: number, b: Bounds) {
  return value < b.min || value > b.max
}

/** Quotes the value as sent, and as converted when the device used another unit. */
function implausible(
  what: string,
  sent: number,
  sentUnit: string | undefined,
  exact: number,
  b: Bounds,
  unit: string,
) {
  const asSent = `${sent}${sentUnit ? ` ${sentUnit}` : ''}`
  const canonical = `${+exact.toFixed(2)} ${unit}`
  const shown = sentUnit === unit || exact === sent ? `${sent} ${unit}` : `${asSent} (${canonical})`
  return fail(
    'VW_ERR_INGEST_IMPLAUSIBLE',
    `${what} ${shown} is outside the plausible range ${b.min}-${b.max} ${unit}`,
  )
}

/** Parse `ts` into FHIR effectiveDateTime + epoch ms, keeping the device's offset. */
export function parseTimestamp(
  ts: string | number | undefined,
  limits: NormalizeLimits,
): { ok: true; effective: string; effectiveMs: number; flags: string[] } | { ok: false; message: string } {
  let effective: string
  let ms: number
  const flags: string[] = []
  if (ts === undefined) {
    ms = limits.nowMs
    effective = new Date(ms).toISOString()
    flags.push('time-from-receipt')
  } else if (typeof ts === 'number') {
    ms = ts
    effective = new Date(ms).toISOString()
  } else {
    const m = ISO_WITH_OFFSET.exec(ts)!
    const [, y, mo, d, h, mi, s = '00', frac = '', offset] = m
    // Date.parse accepts impossible dates such as Feb 30 by rolling over; reject them instead.
    const probe = new Date(Date.UTC(+y, +mo - 1, +d))
    if (probe.getUTCMonth() !== +mo - 1 || probe.getUTCDate() !== +d || +h > 23 || +mi > 59 || +s > 59) {
      return { ok: false, message: `ts ${JSON.stringify(ts)} is not a real date and time` }
    }
    // FHIR dateTime allows offsets up to ±14:00 (minutes 00-59 below 14 h).
    const offsetMin = offset === 'Z' ? 0 : +offset.slice(1, 3) * 60 + +offset.slice(4)
    if (offset !== 'Z' && (+offset.slice(4) > 59 || offsetMin > 14 * 60)) {
      return { ok: false, message: `ts ${JSON.stringify(ts)} has an impossible UTC offset` }
    }
    effective = `${y}-${mo}-${d}T${h}:${mi}:${s}${frac}${offset}`
    ms = Date.parse(effective)
  }
  if (ms > limits.nowMs + limits.maxFutureMs) {
    return {
      ok: false,
      message: `ts is ${Math.round((ms - limits.nowMs) / 1000)} s in the future (limit ${limits.maxFutureMs / 1000} s); check the device clock`,
    }
  }
  if (ms < limits.nowMs - limits.maxAgeMs) {
    // A number this small is most likely seconds since the epoch (a common firmware mistake).
    const seconds =
      typeof ts === 'number' && ts > 0 && ts < 1e11 && ts * 1000 >= limits.nowMs - limits.maxAgeMs
    return {
      ok: false,
      message: seconds
        ? `ts ${ts} looks like seconds since the epoch; send milliseconds (${ts * 1000}) or an ISO 8601 time with offset`
        : `ts is older than the acceptance window of ${limits.maxAgeMs / 86_400_000} days`,
    }
  }
  return { ok: true, effective, effectiveMs: ms, flags }
}

/** Refuse an optional part of a reading that is itself kept. */
const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v)

function drop(out: Normalized, message: string, code: ErrorCode = 'VW_ERR_INGEST_IMPLAUSIBLE') {
  out.dropped = [...(out.dropped ?? []), { code, message }]
}

export function normalize(reading: Reading, limits: NormalizeLimits): NormalizeResult {
  const time = parseTimestamp(reading.ts, limits)
  if (!time.ok) return fail('VW_ERR_INGEST_TIME', time.message)
  const def = vital(reading.type)
  const out: Normalized = {
    type: reading.type,
    readingId: reading.id,
    effective: time.effective,
    effectiveMs: time.effectiveMs,
    values: {},
    flags: time.flags,
  }
  const battery = reading.battery
  if (battery !== undefined && battery !== null) {
    if (!isFiniteNumber(battery))
      drop(
        out,
        `battery ${JSON.stringify(battery).slice(0, 40)} is not a number (0-100); the reading is stored without it`,
        'VW_ERR_INGEST_SCHEMA',
      )
    else if (battery >= 0 && battery <= 100) out.battery = battery
    else drop(out, `battery ${battery} % is outside 0-100 %; the reading is stored without it`)
  }
  if (reading.type === 'blood-pressure') {
    const parts: Record<string, number> = {}
    for (const part of ['systolic', 'diastolic'] as const) {
      const c = convertUnit('blood-pressure', reading[part], reading.unit)
      if (!c.ok) return fail('VW_ERR_INGEST_UNIT', c.message)
      const b = BP_COMPONENTS[part].plausible
      if (outside(c.exact, b)) return implausible(part, reading[part], reading.unit, c.exact, b, 'mm[Hg]')
      parts[part] = c.value
    }
    if (parts.systolic <= parts.diastolic) {
      return fail(
        'VW_ERR_INGEST_IMPLAUSIBLE',
        `systolic ${parts.systolic} must be greater than diastolic ${parts.diastolic}`,
      )
    }
    out.values = parts
    const pulse = reading.pulse
    if (pulse !== undefined && pulse !== null) {
      const hr = vital('heart-rate')
      if (!isFiniteNumber(pulse))
        drop(
          out,
          `pulse ${JSON.stringify(pulse).slice(0, 40)} is not a number (a pulse rate in /min); the blood pressure is stored without it`,
          'VW_ERR_INGEST_SCHEMA',
        )
      else if (outside(pulse, hr.plausible))
        drop(
          out,
          `pulse ${pulse} /min is outside the plausible range ${hr.plausible.min}-${hr.plausible.max} /min; the blood pressure is stored without it`,
        )
      else out.pulse = roundTo(pulse, 0)
    }
    return { ok: true, reading: out }
  }
  for (const part of ['pulse', 'systolic', 'diastolic'] as const) {
    if (reading[part] === undefined || reading[part] === null) continue
    drop(
      out,
      `${part} is read only with a blood-pressure reading and was not stored${part === 'pulse' ? ': send the pulse rate as its own heart-rate reading' : ''}`,
      'VW_ERR_INGEST_SCHEMA',
    )
  }
  if (reading.value === 'LO' || reading.value === 'HI') {
    if (reading.type !== 'blood-glucose') {
      return fail('VW_ERR_INGEST_SCHEMA', `value ${reading.value} is only meaningful for blood-glucose`)
    }
    // No value, but a unit that is not a glucose unit is still the wrong dimension: never guessed.
    if (reading.unit !== undefined) {
      const u = convertUnit(reading.type, 1, reading.unit)
      if (!u.ok) return fail('VW_ERR_INGEST_UNIT', u.message)
    }
    out.outOfRange = reading.value === 'LO' ? 'L' : 'H'
    return { ok: true, reading: out }
  }
  const c = convertUnit(reading.type, reading.value, reading.unit)
  if (!c.ok) return fail('VW_ERR_INGEST_UNIT', c.message)
  if (outside(c.exact, def.plausible))
    return implausible(reading.type, reading.value, reading.unit, c.exact, def.plausible, def.ucum)
  // Pulse oximeters claim accuracy only for 70-100 %.
  if (reading.type === 'spo2' && c.value < 70) out.flags.push('low-confidence')
  if (reading.type === 'steps' && reading.unit === DAILY_STEPS.ucum) out.flags.push(DAILY_TOTAL)
  out.values = { value: c.value }
  return { ok: true, reading: out }
}
