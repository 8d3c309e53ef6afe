import { Point } from '@influxdata/influxdb-client'
import { VITAL_TYPES, type VitalType } from '../../shared/catalog.ts'
import { observationId, type StoredObservation } from '../../shared/fhir.ts'

// The point schema, chosen for the queries Vitalwire runs (a patient's readings of some types in a
// time range, newest first; latest per patient and type) and for bounded series cardinality:
//
//   measurement  the vital type, e.g. `heart-rate`, `blood-pressure` (10 at most, from the catalog)
//   tags         patient_id, device_id: pseudonymous ids only, never names. A device belongs to one
//                patient, so series = devices x types they measure: bounded by the fleet, not by time.
//   fields       key (idempotency key), received_ms (integer), effective (the effectiveDateTime
//                with the device's offset, only when it is not the plain UTC form of the effective
//                time), flags and out_of_range (only when present), and the canonical numeric
//                values as floats (`value`, or `systolic`/`diastolic`) so Grafana and InfluxQL aggregates
//                work directly. These are every fact of the Observation, which shared/fhir.ts renders
//                from them: reads are lossless (components included) at ~150 bytes a line. The
//                Observation id is not stored: it is a function of key and effective time
//                (observationId), and points written before carry it as an `id` field, read as is.
//   timestamp    nanoseconds = effectiveMs * 1e6 + (FNV-1a-32(key) mod 1e6). The effective time in ms
//                is the timestamp truncated to ms (queries ask for epoch=ms), so it is not stored
//                again as a field: one field fewer per point is ~15 % less influxd CPU per write.
//                Points written before carry an `effective_ms` field, which reads prefer.
//
// InfluxDB identifies a point by measurement + tag set + timestamp: a replay of the same key lands on
// the same point and overwrites it with identical content (idempotent), while two different readings
// from one device in the same millisecond get different sub-millisecond offsets. Readings that would
// still collide need the same device, type, millisecond *and* a 1-in-1,000,000 hash collision; the
// effective time read back is the timestamp truncated to ms, so the offset never shows.
//
// The Observation id is a field, not a tag: as a tag it would make one series per reading (unbounded
// cardinality). Reads by id therefore locate the point first (see readings.ts).

export const TAG_PATIENT = 'patient_id'
export const TAG_DEVICE = 'device_id'
const RESERVED = new Set([
  'time',
  'id',
  'key',
  'effective_ms',
  'received_ms',
  'effective',
  'flags',
  'out_of_range',
  TAG_PATIENT,
  TAG_DEVICE,
])

/** FNV-1a, 32 bit: tiny, fast and stable across processes and versions (unlike a runtime hash). */
export function fnv1a32(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/** The point's timestamp in ns: effective ms plus a deterministic sub-millisecond offset from the key. */
export function timestampNs(effectiveMs: number, key: string): bigint {
  return BigInt(effectiveMs) * 1_000_000n + BigInt(fnv1a32(key) % 1_000_000)
}

/** timestampNs as line protocol digits; after 1970 without BigInt (a third of the cost per point). */
function timestampDigits(effectiveMs: number, key: string): string {
  if (effectiveMs < 1 || !Number.isSafeInteger(effectiveMs)) return timestampNs(effectiveMs, key).toString()
  return `${effectiveMs}${String(fnv1a32(key) % 1_000_000).padStart(6, '0')}`
}

const utcIso = (ms: number) => new Date(ms).toISOString()

/**
 * Whether `s` is exactly `new Date(ms).toISOString()`, without building that string (a quarter of the
 * cost; every point asks). Digits are compared against the UTC calendar fields of `ms`, computed with
 * the days-to-civil algorithm (H. Hinnant); years outside 0-9999 render with 6 digits, never 24 chars.
 */
export function isUtcIsoOf(s: string, ms: number): boolean {
  if (s.length !== 24 || s.charCodeAt(23) !== 90 || !Number.isSafeInteger(ms)) return false
  const days = Math.floor(ms / 86_400_000)
  const inDay = ms - days * 86_400_000
  const z = days + 719_468
  const era = Math.floor(z / 146_097)
  const doe = z - era * 146_097
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  )
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0)
  if (year < 0 || year > 9999) return false
  return (
    digitsAt(s, 0, year, 4) &&
    s.charCodeAt(4) === 45 &&
    digitsAt(s, 5, month, 2) &&
    s.charCodeAt(7) === 45 &&
    digitsAt(s, 8, day, 2) &&
    s.charCodeAt(10) === 84 &&
    digitsAt(s, 11, Math.floor(inDay / 3_600_000), 2) &&
    s.charCodeAt(13) === 58 &&
    digitsAt(s, 14, Math.floor(inDay / 60_000) % 60, 2) &&
    s.charCodeAt(16) === 58 &&
    digitsAt(s, 17, Math.floor(inDay / 1000) % 60, 2) &&
    s.charCodeAt(19) === 46 &&
    digitsAt(s, 20, inDay % 1000, 3)
  )
}

/** s[at, at+width) is `n` in decimal, zero-padded. */
function digitsAt(s: string, at: number, n: number, width: number): boolean {
  for (let i = at + width - 1; i >= at; i--) {
    if (s.charCodeAt(i) !== 48 + (n % 10)) return false
    n = Math.floor(n / 10)
  }
  return true
}

export function toPoint(o: StoredObservation): Point {
  const p = new Point(o.type)
    .tag(TAG_PATIENT, o.patientId)
    .tag(TAG_DEVICE, o.deviceId)
    .stringField('key', o.key)
    .intField('received_ms', o.receivedMs)
  if (!isUtcIsoOf(o.effective, o.effectiveMs)) p.stringField('effective', o.effective)
  if (o.flags.length) p.stringField('flags', o.flags.join(','))
  if (o.outOfRange) p.stringField('out_of_range', o.outOfRange)
  for (const [name, v] of Object.entries(o.values)) {
    if (RESERVED.has(name)) throw new Error(`value name ${name} clashes with the point schema`)
    p.floatField(name, v)
  }
  return p.timestamp(timestampDigits(o.effectiveMs, o.key))
}

export function toLine(o: StoredObservation): string {
  const line = toPoint(o).toLineProtocol()
  if (!line) throw new Error('observation produced no line protocol')
  // Point builds the line by concatenation, a tree of string pieces. Reading its last character
  // makes V8 flatten it now, while the pieces are in cache, instead of when the batch is joined: the
  // join then costs a third. (The check must be used, or the compiler drops the read.)
  if (line.charCodeAt(line.length - 1) === 10) throw new Error('line protocol ends in a newline')
  return line
}

export interface Series {
  name: string
  tags?: Record<string, string>
  columns: string[]
  values: unknown[][]
}

/** One InfluxQL result row (columns + series tags) back to the observation that was written. */
export function rowToObservation(s: Series, row: unknown[]): StoredObservation {
  const r: Record<string, unknown> = { ...s.tags }
  for (const [i, c] of s.columns.entries()) if (row[i] !== null && !(c in r)) r[c] = row[i]
  const values: Record<string, number> = {}
  for (const [c, v] of Object.entries(r)) if (!RESERVED.has(c) && typeof v === 'number') values[c] = v
  const key = String(r.key)
  // `time` is in epoch ms (the query asks for epoch=ms): the ns timestamp truncated, i.e. effectiveMs.
  const effectiveMs = Number(r.effective_ms ?? r.time)
  return {
    id: typeof r.id === 'string' ? r.id : observationId(key, effectiveMs),
    key,
    patientId: String(r[TAG_PATIENT]),
    deviceId: String(r[TAG_DEVICE]),
    type: s.name as VitalType,
    effectiveMs,
    receivedMs: Number(r.received_ms),
    values,
    effective: typeof r.effective === 'string' ? r.effective : utcIso(effectiveMs),
    flags: r.flags ? String(r.flags).split(',') : [],
    ...(r.out_of_range === 'L' || r.out_of_range === 'H' ? { outOfRange: r.out_of_range } : {}),
  }
}

/** InfluxQL identifier, double-quoted: measurement names contain `-`. */
export function ident(name: string): string {
  return `"${name.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`
}

/** InfluxQL string literal. */
export function literal(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`
}

export function isVitalType(t: string): t is VitalType {
  return (VITAL_TYPES as readonly string[]).includes(t)
}
