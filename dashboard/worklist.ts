import { SEVERITY_RANK } from '../shared/alert.ts'
import type { StoredObservation } from '../shared/fhir.ts'
import type { Patient } from '../storage/ports.ts'
import type { DashboardDeps, ReadingsCursor } from './deps.ts'
import { patientView, readingView } from './views.ts'

// The worklist (GET /api/patients) kept in memory, so a request costs what changed plus filtering and
// joining, not 1,000 patients' worth of queries and serialization (bench/api.ts).
//
// Never stale: each request first brings the view up to date with what is committed, from any process
// (the CLI, another server on the same data dir): registry events since the last look (patients added or
// changed), readings committed since the last look (storage/sqlite/latest.ts), and the live alerts,
// which are few and read every time. Each patient's JSON is cached until that patient or one of their
// latest readings changes, as UTF-8; the response is the visible patients' rows concatenated, sent as is.
//
// Without the SQLite index (InfluxDB is the system of record), the latest readings and alerts are read
// on every request, as before.

type ReadingView = ReturnType<typeof readingView>
type Latest = Map<string, { effectiveMs: number; view: ReadingView }>
type AlertCounts = { count: number; rank: number }

interface Row {
  patient: Patient
  /** The row's JSON up to its alert counts (no closing brace); undefined until needed after a change. */
  head?: string
  /** The whole row's UTF-8 JSON with no live alerts (most rows), encoded once. */
  quiet?: Buffer
}

const OPEN = Buffer.from('{"patients":[')
const COMMA = Buffer.from(',')
const CLOSE = Buffer.from(']}')
/** Bodies kept for repeat requests (one per viewer key; a body is about 1 KiB per patient). */
const MAX_BODIES = 16

interface Body {
  version: number
  alerts: string
  patientIds: readonly string[]
  json: Buffer
}

/** The memo key of an admin's scope (every patient). */
const EVERYONE = {}

export function createWorklist(deps: DashboardDeps) {
  let rows = new Map<string, Row>()
  const latest = new Map<string, Latest>()
  let latestCount = 0
  let registrySeen: number | undefined
  let cursor: ReadingsCursor | undefined
  let queue: Promise<unknown> = Promise.resolve()
  /** Bumped by every change to a row; a kept body is served again only at the same version. */
  let version = 0
  const bodies = new Map<string, Body>()
  /**
   * The visible patients' ids per scope (the same Set while a care team is unchanged, dashboard/auth.ts)
   * and `rows` (replaced whenever a patient is added or changed): one array per list, not one per request.
   */
  const visible = new WeakMap<object, { rows: Map<string, Row>; ids: readonly string[] }>()

  function visibleIds(scope: ReadonlySet<string> | null): readonly string[] {
    const m = visible.get(scope ?? EVERYONE)
    if (m && m.rows === rows) return m.ids
    const ids: string[] = []
    for (const id of rows.keys()) if (!scope || scope.has(id)) ids.push(id)
    Object.freeze(ids)
    visible.set(scope ?? EVERYONE, { rows, ids })
    return ids
  }

  const touch = (patientId: string) => {
    version++
    const r = rows.get(patientId)
    if (r) r.head = r.quiet = undefined
  }

  /** Same rule as the latest_readings upsert: a reading at least as recent as the current one wins. */
  function apply(o: StoredObservation) {
    let m = latest.get(o.patientId)
    if (!m) {
      m = new Map()
      latest.set(o.patientId, m)
    }
    const cur = m.get(o.type)
    if (cur && o.effectiveMs < cur.effectiveMs) return
    if (!cur) latestCount++
    m.set(o.type, { effectiveMs: o.effectiveMs, view: readingView(o) })
    touch(o.patientId)
  }

  function resetLatest(observations: StoredObservation[]) {
    version++
    latest.clear()
    latestCount = 0
    for (const r of rows.values()) r.head = r.quiet = undefined
    for (const o of observations) apply(o)
  }

  async function syncRegistry() {
    const head = deps.registry.lastEventId()
    if (head === registrySeen) return
    // Only patient events change what the worklist shows; users' and devices' pass.
    let changed = registrySeen === undefined || head < registrySeen
    for (let from = registrySeen ?? head; !changed && from < head; ) {
      const events = deps.registry.eventsSince(from)
      if (events.length === 0) break
      changed = events.some((e) => e.kind.startsWith('patient'))
      from = events[events.length - 1].id
    }
    // Seen before reading: a change committed meanwhile is read again next time, never skipped.
    registrySeen = head
    if (!changed) return
    const next = new Map<string, Row>()
    for (const p of await deps.registry.listPatients()) next.set(p.id, { patient: p })
    rows = next
    version++
  }

  async function syncReadings() {
    const index = deps.latestIndex
    if (!index) return resetLatest(await deps.readings.latest([...rows.keys()]))
    if (cursor) {
      const c = await index.changesSince(cursor, latestCount)
      if (c.kind === 'append') {
        for (const o of c.observations) apply(o)
        cursor = c.cursor
        // Appending explains every latest reading only if none was deleted (retention).
        if (latestCount === c.latestCount) return
      }
    }
    const all = await index.latest()
    resetLatest(all.observations)
    cursor = all.cursor
  }

  async function liveAlerts(scope: ReadonlySet<string> | null): Promise<Map<string, AlertCounts>> {
    const list = deps.latestIndex
      ? await deps.latestIndex.liveAlerts()
      : (
          await Promise.all(
            (['open', 'acknowledged'] as const).map((status) =>
              deps.alertStore.list({ patientIds: scope ? [...scope] : undefined, status, limit: 10_000 }),
            ),
          )
        ).flat()
    const out = new Map<string, AlertCounts>()
    for (const a of list) {
      const c = out.get(a.patientId) ?? { count: 0, rank: 0 }
      c.count++
      c.rank = Math.max(c.rank, SEVERITY_RANK[a.severity as keyof typeof SEVERITY_RANK] ?? 0)
      out.set(a.patientId, c)
    }
    return out
  }

  function encode(id: string, row: Row, alerts: AlertCounts | undefined): Buffer {
    if (row.head === undefined) {
      const views: Record<string, ReadingView> = {}
      for (const [type, l] of latest.get(id) ?? []) views[type] = l.view
      row.head = JSON.stringify({ ...patientView(row.patient), latest: views }).slice(0, -1)
    }
    if (!alerts) {
      row.quiet ??= Buffer.from(`${row.head},"openAlerts":0,"topSeverityRank":0}`)
      return row.quiet
    }
    return Buffer.from(`${row.head},"openAlerts":${alerts.count},"topSeverityRank":${alerts.rank}}`)
  }

  function body(patientIds: readonly string[], alerts: Map<string, AlertCounts>): Buffer {
    // Concatenating cached UTF-8 rows costs a fraction of joining strings and encoding the result.
    const parts: Buffer[] = [OPEN]
    for (const id of patientIds) {
      if (parts.length > 1) parts.push(COMMA)
      parts.push(encode(id, rows.get(id)!, alerts.get(id)))
    }
    parts.push(CLOSE)
    return Buffer.concat(parts)
  }

  return {
    /**
     * The worklist JSON for a viewer who may see `scope` (null = every patient), as of now, and the ids
     * of the patients in it (for the audit entry; frozen, and the same array while the list is the same).
     * With a `key` (the viewer), the body is kept and served again while nothing in it changed: same rows
     * version, same live alerts, same patients.
     */
    async render(
      scope: ReadonlySet<string> | null,
      key?: string,
    ): Promise<{ json: Buffer; patientIds: readonly string[] }> {
      // One update at a time, each started after its request arrived: no request sees an older view.
      const run = queue.then(async () => {
        await syncRegistry()
        await syncReadings()
      })
      queue = run.catch(() => {})
      await run
      const alerts = await liveAlerts(scope)
      const patientIds = visibleIds(scope)
      let alertSig = ''
      for (const [id, c] of alerts) alertSig += `${id}:${c.count}:${c.rank};`
      const kept = key === undefined ? undefined : bodies.get(key)
      if (
        kept &&
        kept.version === version &&
        kept.alerts === alertSig &&
        (kept.patientIds === patientIds ||
          (kept.patientIds.length === patientIds.length &&
            kept.patientIds.every((id, i) => id === patientIds[i])))
      )
        return { json: kept.json, patientIds }
      const json = body(patientIds, alerts)
      if (key !== undefined) {
        bodies.delete(key)
        if (bodies.size >= MAX_BODIES) bodies.delete(bodies.keys().next().value!)
        bodies.set(key, { version, alerts: alertSig, patientIds, json })
      }
      return { json, patientIds }
    },
  }
}
