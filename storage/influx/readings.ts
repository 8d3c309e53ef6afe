import { DAILY_TOTAL, isDailySteps, VITAL_TYPES, type VitalType } from '../../shared/catalog.ts'
import { notACursor } from '../../shared/cursor.ts'
import { idTimeMs, type StoredObservation } from '../../shared/fhir.ts'
import type { ReadingPage, ReadingQuery, ReadingStore } from '../ports.ts'
import { createInfluxHttp, type InfluxOptions, InfluxWriteError } from './http.ts'
import {
  ident,
  literal,
  rowToObservation,
  type Series,
  TAG_DEVICE,
  TAG_PATIENT,
  timestampNs,
  toLine,
} from './schema.ts'

// ReadingStore on InfluxDB (v1 API). Order is (timestamp ns, id): effective time first, the
// sub-millisecond key offset (schema.ts) and the id break ties, so keyset paging is a total order.

/** Where the point of an Observation id lives; the local SQLite index answers this without a scan. */
export interface PointLocation {
  type: VitalType
  patientId: string
  deviceId: string
  effectiveMs: number
  key: string
}

export interface InfluxReadingStoreDeps {
  /** Find a point by Observation id cheaply; without it (or on a miss) `get` scans the `id` field. */
  locate?: (id: string) => Promise<PointLocation | undefined>
}

type Filter = Omit<ReadingQuery, 'sort' | 'limit' | 'after'>

/** InfluxDB's time range, in ns: int64, less the two values it reserves at each end. */
const MIN_NS = -9_223_372_036_854_775_806n
const MAX_NS = 9_223_372_036_854_775_806n
type Keyed = { o: StoredObservation; ns: bigint }
/** The most points one read of the other-step-counts search takes (see search). */
const MAX_INTERVAL_BATCH = 10_000

export function encodeInfluxCursor(k: Keyed): string {
  return Buffer.from(JSON.stringify([k.ns.toString(), k.o.id])).toString('base64url')
}

/** The position of a cursor `encodeInfluxCursor` made; any other is a 400 (shared/cursor.ts). */
export function decodeInfluxCursor(cursor: string): { ns: bigint; id: string } {
  try {
    const [ns, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (typeof ns === 'string' && /^-?\d+$/.test(ns) && typeof id === 'string') return { ns: BigInt(ns), id }
  } catch {}
  throw notACursor()
}

function compare(a: Keyed, b: { ns: bigint; id: string }): number {
  if (a.ns !== b.ns) return a.ns < b.ns ? -1 : 1
  return a.o.id < b.id ? -1 : a.o.id > b.id ? 1 : 0
}

export function createInfluxReadingStore(
  options: InfluxOptions,
  deps: InfluxReadingStoreDeps = {},
): ReadingStore & { ping(): Promise<void> } {
  const api = createInfluxHttp(options)

  /**
   * FROM lists and their WHERE conditions (one statement each); undefined when the filter can match
   * nothing. Day totals of steps are told apart by their flags field, so a search for them queries
   * the steps measurement on its own; the other step counts are filtered after reading (below),
   * because InfluxQL cannot match a point that lacks the field.
   */
  function plan(q: Filter): { from: string; where: string[] }[] | undefined {
    const types = q.types ?? VITAL_TYPES
    if (types.length === 0 || q.patientIds?.length === 0) return undefined
    const where: string[] = []
    if (q.patientIds)
      where.push(`(${q.patientIds.map((p) => `${ident(TAG_PATIENT)} = ${literal(p)}`).join(' OR ')})`)
    // effectiveMs is an integer, so exclusive bounds are the next millisecond; time < (ms+1)e6 keeps
    // every sub-millisecond offset of the last millisecond. InfluxDB's times are int64 nanoseconds
    // (1677-09-21 to 2262-04-11): a bound beyond them (`date=lt2300`) is no bound at all, or excludes
    // everything, instead of an InfluxQL error.
    if (q.fromMs !== undefined) {
      const ns = BigInt(q.fromMs + (q.fromExclusive ? 1 : 0)) * 1_000_000n
      if (ns > MAX_NS) return undefined
      if (ns > MIN_NS) where.push(`time >= ${ns}`)
    }
    if (q.toMs !== undefined) {
      const ns = BigInt(q.toMs + (q.toExclusive ? 0 : 1)) * 1_000_000n
      if (ns <= MIN_NS) return undefined
      if (ns <= MAX_NS) where.push(`time < ${ns}`)
    }
    const from = (ts: readonly VitalType[]) => ts.map((t) => api.from(t)).join(', ')
    if (q.steps !== 'daily' || !types.includes('steps')) return [{ from: from(types), where }]
    const others = types.filter((t) => t !== 'steps')
    const daily = { from: from(['steps']), where: [...where, `"flags" =~ /(^|,)${DAILY_TOTAL}(,|$)/`] }
    return others.length ? [{ from: from(others), where }, daily] : [daily]
  }

  /** Whether a search has to drop day totals of steps after reading them. */
  const dropsDaily = (q: Filter) => q.steps === 'interval' && (q.types ?? VITAL_TYPES).includes('steps')

  const select = (from: string, where: string[], tail = '') =>
    `SELECT * FROM ${from}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${tail}`

  function rows(results: Series[][]): Keyed[] {
    const out: Keyed[] = []
    for (const series of results)
      for (const s of series)
        for (const row of s.values) {
          const o = rowToObservation(s, row)
          out.push({ o, ns: timestampNs(o.effectiveMs, o.key) })
        }
    return out
  }

  /** One page, day totals filtered in InfluxDB when `q.steps` is `daily` (not for `interval`). */
  async function search(q: ReadingQuery): Promise<ReadingPage> {
    const groups = plan(q)
    if (!groups || q.limit <= 0) return { items: [] }
    const cursor = q.after ? decodeInfluxCursor(q.after) : undefined
    const dir = q.sort === 'asc' ? 'ASC' : 'DESC'
    // LIMIT applies per measurement; the union holds the global first limit+1, merged below.
    const tail = ` ORDER BY time ${dir} LIMIT ${q.limit + 1}`
    const statements = groups.flatMap((g) =>
      cursor
        ? [
            // Ties on the cursor's exact timestamp (rare: see schema.ts), then strictly beyond it.
            select(g.from, [...g.where, `time = ${cursor.ns}`]),
            select(g.from, [...g.where, `time ${q.sort === 'asc' ? '>' : '<'} ${cursor.ns}`], tail),
          ]
        : [select(g.from, g.where, tail)],
    )
    const sign = q.sort === 'asc' ? 1 : -1
    let all = rows(await api.query(statements.join('; ')))
    if (cursor) all = all.filter((k) => sign * compare(k, cursor) > 0)
    all.sort((a, b) => sign * compare(a, { ns: b.ns, id: b.o.id }))
    const page = all.slice(0, q.limit)
    return {
      items: page.map((k) => k.o),
      next: all.length > q.limit ? encodeInfluxCursor(page[page.length - 1]) : undefined,
    }
  }

  async function count(q: Filter): Promise<number> {
    const groups = plan(q)
    if (!groups) return 0
    const statements = groups.map(
      (g) => `SELECT COUNT("key") FROM ${g.from}${g.where.length ? ` WHERE ${g.where.join(' AND ')}` : ''}`,
    )
    const results = await api.query(statements.join('; '))
    return results.flat().reduce((n, s) => n + s.values.reduce((m, v) => m + Number(v[1] ?? 0), 0), 0)
  }
  const cursorAt = (o: StoredObservation) => encodeInfluxCursor({ o, ns: timestampNs(o.effectiveMs, o.key) })

  return {
    ping: () => api.ping(),
    async write(batch) {
      if (batch.length === 0) return
      let body: string
      try {
        body = batch.map(toLine).join('\n')
      } catch (e) {
        // Unserializable (e.g. a value named like a schema field): that reading's fault, so the
        // forwarder bisects and dead-letters it instead of retrying forever.
        throw new InfluxWriteError('VW_ERR_STORAGE_REJECTED', `no line protocol: ${(e as Error).message}`, {
          cause: e,
        })
      }
      await api.write(body)
    },

    cursorAt,
    async search(q): Promise<ReadingPage> {
      if (!dropsDaily(q)) return search(q)
      // Page through every step count, keeping the others, until a page is full or the end. Each read
      // takes four times the last (up to 10,000 points): a history of day totals alone is crossed in a
      // few dozen queries, not one per page.
      const kept: StoredObservation[] = []
      let after = q.after
      let batch = q.limit + 1
      for (;;) {
        const page = await search({ ...q, steps: undefined, after, limit: batch })
        for (const o of page.items) {
          if (isDailySteps(o)) continue
          kept.push(o)
          // Enough: the cursor below is at the last kept one, so what follows it is read next time.
          if (kept.length > q.limit) break
        }
        if (kept.length > q.limit || !page.next) break
        after = page.next
        batch = Math.min(batch * 4, MAX_INTERVAL_BATCH)
      }
      const items = kept.slice(0, q.limit)
      return { items, next: kept.length > q.limit ? cursorAt(items[items.length - 1]) : undefined }
    },

    async count(q) {
      if (!dropsDaily(q)) return count(q)
      const [all, daily] = await Promise.all([
        count({ ...q, steps: undefined }),
        count({ ...q, types: ['steps'], steps: 'daily' }),
      ])
      return all - daily
    },

    async latest(patientIds) {
      const [p] = plan({ patientIds }) ?? []
      if (!p) return []
      // One series per measurement and patient: its newest point is the latest of that type.
      const q = select(p.from, p.where, ` GROUP BY ${ident(TAG_PATIENT)} ORDER BY time DESC LIMIT 1`)
      return rows(await api.query(q)).map((k) => k.o)
    },

    async get(id) {
      const all = VITAL_TYPES.map((t) => api.from(t)).join(', ')
      const find = async (q: string) => rows(await api.query(q)).find((k) => k.o.id === id)?.o
      const at = await deps.locate?.(id)
      if (at) {
        return find(
          select(api.from(at.type), [
            `${ident(TAG_PATIENT)} = ${literal(at.patientId)}`,
            `${ident(TAG_DEVICE)} = ${literal(at.deviceId)}`,
            `time = ${timestampNs(at.effectiveMs, at.key)}`,
          ]),
        )
      }
      // Ids the local index no longer knows. An id starts with its effective time (observationId),
      // so one millisecond of every measurement holds it; ids from before that scheme (all hex,
      // stored as an `id` field) need a scan of that field.
      const ms = idTimeMs(id)
      const inTime =
        ms !== undefined
          ? await find(
              select(all, [`time >= ${BigInt(ms) * 1_000_000n}`, `time < ${BigInt(ms + 1) * 1_000_000n}`]),
            )
          : undefined
      return inTime ?? find(select(all, [`"id" = ${literal(id)}`], ' LIMIT 1'))
    },

    async close() {
      api.close()
    },
  }
}
