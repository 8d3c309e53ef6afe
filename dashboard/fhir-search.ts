import {
  CATALOG,
  DAILY_STEPS,
  LOINC,
  OBSERVATION_CATEGORY,
  VITAL_TYPES,
  type VitalType,
} from '../shared/catalog.ts'
import type { ReadingQuery, StepCounts } from '../storage/ports.ts'

// Pure: FHIR R4 Observation search parameters -> a readings query. Unknown or malformed parameters are
// errors (OperationOutcome), never silently ignored: a client must not believe a filter was applied.

export const SEARCH_PARAMS = [
  'patient',
  'subject',
  'code',
  'date',
  'category',
  '_count',
  '_sort',
  '_cursor',
  '_format',
  '_total',
] as const
export const DEFAULT_COUNT = 50
export const MAX_COUNT = 1000

/**
 * A page link's position: keyset value (effective time, id) and direction, plus the total counted when
 * the search started, so later pages do not count a long history again (Bundle.total is the count at
 * the start of the search; a client that edits it only misleads itself).
 */
export interface SearchCursor {
  dir: 'next' | 'prev'
  value: string
  total?: number
}

export type ParsedSearch =
  | {
      ok: true
      query: Omit<ReadingQuery, 'patientIds'> & { patientIds?: string[] }
      count: number
      /**
       * `none`: leave Bundle.total out (skips counting a long history); `accurate`: count now;
       * `estimate` (the default): a count up to 10 s old may serve.
       */
      total: 'none' | 'estimate' | 'accurate'
      cursor?: SearchCursor
    }
  | { ok: false; code: 'not-supported' | 'invalid' | 'value'; message: string }

const bad = (code: 'not-supported' | 'invalid' | 'value', message: string): ParsedSearch => ({
  ok: false,
  code,
  message,
})

function asList(v: unknown): string[] {
  if (v === undefined) return []
  return (Array.isArray(v) ? v : [v]).map(String)
}

/** A FHIR date/dateTime search value -> [startMs, endMs) covering its precision. */
export function dateRange(value: string): [number, number] | undefined {
  const m =
    /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(
      value,
    )
  if (!m) return undefined
  const [, y, mo, d, h, mi, s, frac, tz] = m
  // Date.UTC rolls an impossible date over (2026-02-30 would search 2 March): a real date, or nothing.
  if (mo !== undefined && (+mo < 1 || +mo > 12)) return undefined
  if (d !== undefined && new Date(Date.UTC(+y, +mo - 1, +d)).getUTCDate() !== +d) return undefined
  if (h !== undefined && (+h > 23 || +mi > 59 || (s !== undefined && +s > 59))) return undefined
  if (h !== undefined) {
    const iso = `${y}-${mo}-${d}T${h}:${mi}:${s ?? '00'}${frac ?? ''}${tz ?? 'Z'}`
    const start = Date.parse(iso)
    if (Number.isNaN(start)) return undefined
    // A value covers its precision: `…:00.2` is 200-300 ms, `…:00.25` 250-260 ms (at least 1 ms).
    const width = s === undefined ? 60_000 : frac ? Math.max(1, 1000 / 10 ** (frac.length - 1)) : 1000
    return [start, start + width]
  }
  // Dates without a time are taken in UTC (documented in CapabilityStatement).
  const start = Date.UTC(+y, mo ? +mo - 1 : 0, d ? +d : 1)
  const end = d ? Date.UTC(+y, +mo - 1, +d + 1) : mo ? Date.UTC(+y, +mo, 1) : Date.UTC(+y + 1, 0, 1)
  return Number.isNaN(start) ? undefined : [start, end]
}

/** The types a code token finds, and which step counts: 55423-8 the others, 41950-7 the day totals. */
function typesForCode(token: string): { types: VitalType[]; steps: StepCounts[] } {
  const [system, code] = token.includes('|') ? token.split('|', 2) : [undefined, token]
  // `|code` is a code with no system (FHIR token search): every code here is LOINC, so none.
  if (system !== undefined && system !== LOINC) return { types: [], steps: [] }
  // `system|` is any code of that system: everything here.
  if (system !== undefined && code === '') return { types: [...VITAL_TYPES], steps: ['daily', 'interval'] }
  const types: VitalType[] = []
  for (const def of CATALOG.values()) if (def.codings.some((c) => c.code === code)) types.push(def.type)
  // BP components: a search for systolic or diastolic finds the BP panel that carries them.
  if (code === '8480-6' || code === '8462-4') types.push('blood-pressure')
  // Day totals are stored as steps with a flag and rendered with their own code (docs/ingest.md):
  // each code finds only the Observations that carry it, so a client summing either never counts twice.
  if (code === DAILY_STEPS.coding.code) return { types: ['steps'], steps: ['daily'] }
  return { types, steps: types.includes('steps') ? ['interval'] : [] }
}

/**
 * `base`: this server's FHIR base URL, so that a patient reference may also be absolute
 * (`<base>/Patient/p1`); a reference to another server's patient is refused, never taken for ours.
 */
export function parseObservationSearch(query: Record<string, unknown>, base?: string): ParsedSearch {
  for (const key of Object.keys(query)) {
    const base = key.split(':')[0]
    if (!(SEARCH_PARAMS as readonly string[]).includes(base) || key.includes(':')) {
      return bad(
        'not-supported',
        `search parameter ${key} is not supported (supported: ${SEARCH_PARAMS.join(', ')})`,
      )
    }
  }
  const q: Omit<ReadingQuery, 'patientIds'> & { patientIds?: string[] } = {
    sort: 'asc',
    limit: DEFAULT_COUNT,
  }
  // Within one parameter a comma is OR; repeated parameters are AND: a reading has one subject, so only
  // ids named in every repetition can match.
  for (const value of [...asList(query.patient), ...asList(query.subject)]) {
    const ids = new Set<string>()
    for (const s of value.split(',')) {
      let ref = s
      if (/^https?:\/\//i.test(s)) {
        if (!base || !s.startsWith(`${base}/Patient/`))
          return bad(
            'value',
            `patient reference ${s} is not on this server (${base ?? 'unknown'}/Patient/<id>)`,
          )
        ref = s.slice(base.length + 1)
      }
      const id = ref.startsWith('Patient/') ? ref.slice(8) : ref
      if (!/^[A-Za-z0-9\-.]{1,64}$/.test(id)) return bad('value', `invalid patient reference ${s}`)
      ids.add(id)
    }
    q.patientIds = q.patientIds ? q.patientIds.filter((id) => ids.has(id)) : [...ids]
  }
  // Which step counts every code parameter names (repetitions are AND); both kinds = no filter.
  let steps: StepCounts[] = ['daily', 'interval']
  for (const c of asList(query.code)) {
    const found = c.split(',').map(typesForCode)
    const types = new Set(found.flatMap((f) => f.types))
    q.types = q.types ? q.types.filter((t) => types.has(t)) : [...types]
    const kinds = new Set(found.flatMap((f) => f.steps))
    steps = steps.filter((k) => kinds.has(k))
  }
  if (steps.length === 0) q.types = q.types?.filter((t) => t !== 'steps')
  else if (steps.length === 1 && q.types?.includes('steps')) q.steps = steps[0]
  for (const c of asList(query.category)) {
    // Token search as for code: `x` any system, `system|x`, `|x` no system (none here: every category is
    // in the observation-category system), `system|` any category of that system.
    const wanted = c.split(',').map((t) => (t.includes('|') ? t.split('|', 2) : [undefined, t]))
    const types = [...CATALOG.values()]
      .filter((d) =>
        wanted.some(
          ([sys, code]) =>
            (sys === undefined || sys === OBSERVATION_CATEGORY) &&
            (code === d.category || (sys !== undefined && code === '')),
        ),
      )
      .map((d) => d.type)
    q.types = q.types ? q.types.filter((t) => types.includes(t)) : types
  }
  for (const d of asList(query.date)) {
    const m = /^(eq|ge|gt|le|lt)?(.+)$/.exec(d)!
    const prefix = m[1] ?? 'eq'
    const range = dateRange(m[2])
    if (!range)
      return bad(
        'value',
        `invalid date ${d}: use a prefix eq|ge|gt|le|lt and YYYY[-MM[-DD[Thh:mm[:ss][Z|+hh:mm]]]]`,
      )
    const [start, end] = range
    const lower = (ms: number, exclusive: boolean) => {
      if (q.fromMs === undefined || ms > q.fromMs || (ms === q.fromMs && exclusive))
        Object.assign(q, { fromMs: ms, fromExclusive: exclusive })
    }
    const upper = (ms: number, exclusive: boolean) => {
      if (q.toMs === undefined || ms < q.toMs || (ms === q.toMs && exclusive))
        Object.assign(q, { toMs: ms, toExclusive: exclusive })
    }
    if (prefix === 'eq') {
      lower(start, false)
      upper(end, true)
    } else if (prefix === 'ge') lower(start, false)
    else if (prefix === 'gt') lower(end, false)
    else if (prefix === 'le') upper(end, true)
    else upper(start, true)
  }
  let count = DEFAULT_COUNT
  if (query._count !== undefined) {
    count = Number(query._count)
    if (!Number.isInteger(count) || count < 0 || count > MAX_COUNT)
      return bad('value', `_count must be an integer 0-${MAX_COUNT}`)
  }
  q.limit = count
  if (query._sort !== undefined) {
    const s = String(query._sort)
    if (s !== 'date' && s !== '-date') return bad('not-supported', '_sort supports date and -date')
    q.sort = s === 'date' ? 'asc' : 'desc'
  }
  let cursor: SearchCursor | undefined
  if (query._cursor !== undefined) {
    const m = /^(n|p)\.([A-Za-z0-9_-]{1,200})(?:\.(\d{1,12}))?$/.exec(String(query._cursor))
    if (!m) return bad('value', 'invalid _cursor')
    cursor = {
      dir: m[1] === 'n' ? 'next' : 'prev',
      value: m[2],
      total: m[3] === undefined ? undefined : Number(m[3]),
    }
  }
  let total: 'none' | 'estimate' | 'accurate' = 'estimate'
  if (query._total !== undefined) {
    const t = String(query._total)
    if (t !== 'none' && t !== 'estimate' && t !== 'accurate')
      return bad('value', '_total must be none, estimate or accurate')
    total = t
  }
  return { ok: true, query: q, count, total, cursor }
}
