import type { StoredObservation } from '../shared/fhir.ts'
import type { DashboardDeps } from './deps.ts'
import { readingView } from './views.ts'

// The worklist's latest values. Stored readings are immutable (keyed by their idempotency key), so the
// REST view of each one is computed once and cached; each request only asks the store which key is the
// latest per patient and type. This keeps GET /api/patients fast for 1,000 patients (bench/api.ts).

type View = ReturnType<typeof readingView>
const MAX_CACHED = 100_000

export function createLatestViews(deps: DashboardDeps) {
  const cache = new Map<string, View>()
  const remember = (o: StoredObservation) => {
    if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!)
    const v = readingView(o)
    cache.set(o.key, v)
    return v
  }
  return {
    /** patientId -> type -> reading view; `ids` undefined = every patient. */
    async latest(ids: string[] | undefined, allIds: string[]): Promise<Map<string, Record<string, View>>> {
      const out = new Map<string, Record<string, View>>(allIds.map((id) => [id, {}]))
      if (!deps.latestIndex) {
        for (const o of await deps.readings.latest(allIds)) out.get(o.patientId)![o.type] = readingView(o)
        return out
      }
      const keys = await deps.latestIndex.latestKeys(ids)
      const missing = keys.filter((k) => !cache.has(k.key)).map((k) => k.key)
      if (missing.length) for (const o of await deps.latestIndex.getByKeys(missing)) remember(o)
      for (const k of keys) {
        const v = cache.get(k.key)
        const row = out.get(k.patientId)
        if (v && row) row[k.type] = v
      }
      return out
    },
  }
}
