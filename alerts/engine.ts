import type { StoredObservation } from '../shared/fhir.ts'
import type { Patient, ReadingStore } from '../storage/ports.ts'
import type { CompiledRules } from './compile.ts'
import {
  breachMessage,
  breachRunStartMs,
  consecutiveMet,
  evaluateThreshold,
  levelsFor,
  recovered,
  type ThresholdLike,
} from './evaluate.ts'
import { createLatestValues } from './latest-values.ts'
import type { Lifecycle } from './lifecycle.ts'
import { scoreNews2 } from './news2.ts'
import { NEWS2_TYPES, news2Input, news2Message, news2Severity } from './news2-rule.ts'
import type { News2Rule, TrendRule } from './rules.ts'
import { evaluateTrend, type TrendBreach, trendMessage } from './trend.ts'

// Evaluate one observation against a patient's rules: the pure cores decide, this shell fetches the
// history they need (bounded by the observation's own time, so a replay of old data sees exactly what
// live evaluation saw) and hands findings to the lifecycle. Live alerts and `rules test` both run this.

const MIN = 60_000
const HISTORY_LIMIT = 500

export function createEngine(deps: { readings: ReadingStore; lifecycle: Lifecycle; now: () => number }) {
  const { lifecycle } = deps
  const latest = createLatestValues(deps.readings, NEWS2_TYPES, deps.now)

  /** The patient's other readings of these types within `range` (bounds inclusive). */
  const around = async (
    obs: StoredObservation,
    types: StoredObservation['type'][],
    range: { fromMs?: number; toMs?: number },
    sort: 'asc' | 'desc',
    limit: number,
  ) =>
    (
      await deps.readings.search({
        patientIds: [obs.patientId],
        types,
        ...(range.fromMs !== undefined ? { fromMs: range.fromMs } : {}),
        ...(range.toMs !== undefined ? { toMs: range.toMs } : {}),
        sort,
        limit,
      })
    ).items.filter((o) => o.key !== obs.key)

  /** Readings measured at or before `obs` (newest first), from `fromMs`. */
  const earlier = (
    obs: StoredObservation,
    types: StoredObservation['type'][],
    fromMs?: number,
    limit = HISTORY_LIMIT,
  ) => around(obs, types, { fromMs, toMs: obs.effectiveMs }, 'desc', limit)

  /**
   * Readings of these types measured at or after `obs` (ascending, up to `toMs`) that arrived no later
   * than it: the ones it arrived after, out of order. (Not later arrivals: those are evaluated with
   * `obs` in their own turn, and a replay of old data must see only what live evaluation saw.)
   */
  const later = async (
    obs: StoredObservation,
    types: StoredObservation['type'][],
    limit: number,
    toMs?: number,
  ) =>
    (await around(obs, types, { fromMs: obs.effectiveMs, toMs }, 'asc', limit + 1)).filter(
      (o) => o.receivedMs <= obs.receivedMs,
    )

  // Most readings breach nothing and have no live alert to update: that path answers at once, without
  // a promise (`undefined`); only work that must wait (a store write, a history query) returns one.
  // Awaiting every rule step cost a few per cent of the ingest rate (docs/alerts.md, Performance).

  function threshold(
    rule: ThresholdLike,
    obs: StoredObservation,
    p: Patient | undefined,
    resolveAfterMs: number,
  ): Promise<unknown> | undefined {
    const levels = levelsFor(rule, p?.flags ?? {})
    const b = evaluateThreshold(rule, obs, levels)
    if (!b)
      return recovered(rule, obs, levels)
        ? lifecycle.recovering(obs.patientId, rule.id, obs, resolveAfterMs)
        : lifecycle.unsettled(obs.patientId, rule.id)
    return breach(rule, obs, levels, b)
  }

  async function breach(
    rule: ThresholdLike,
    obs: StoredObservation,
    levels: ReturnType<typeof levelsFor>,
    b: NonNullable<ReturnType<typeof evaluateThreshold>>,
  ) {
    let lastedMs: number | undefined
    if (rule.consecutive > 1) {
      const history = await earlier(obs, [rule.type], undefined, rule.consecutive)
      if (!consecutiveMet(rule, levels, history)) {
        // Not the end of a run, but maybe inside one: a cuff syncing its memory newest first sends the
        // later reading before this one, and each alone was one short of the run.
        const end = await runThrough(rule, levels, obs, history)
        const endBreach = end && evaluateThreshold(rule, end, levels)
        if (!end || !endBreach) return lifecycle.unsettled(obs.patientId, rule.id)
        obs = end
        b = endBreach
      }
    }
    if (rule.kind === 'sustained') {
      // Readings inside the span, plus the last one before it: the run must reach back that far.
      const forMs = rule.forMinutes * MIN
      const inside = await earlier(obs, [rule.type], obs.effectiveMs - forMs + 1)
      const before = (
        await deps.readings.search({
          patientIds: [obs.patientId],
          types: [rule.type],
          toMs: obs.effectiveMs - forMs,
          sort: 'desc',
          limit: 1,
        })
      ).items
      const earlierDesc = [...inside, ...before]
      lastedMs = obs.effectiveMs - breachRunStartMs(rule, levels, obs, earlierDesc, forMs)
      if (lastedMs < forMs) {
        // Maybe the start of a span whose later readings arrived first (a memory synced newest
        // first): the span as it reads through them, ending at the newest reading still breaching.
        // The run's start before `obs` (all of it) is the same for each of them: one pass, not one
        // scan per reading (a batch of 250 samples made that millions of evaluations).
        const runStart = breachRunStartMs(rule, levels, obs, earlierDesc, Number.POSITIVE_INFINITY)
        let end: { obs: StoredObservation; b: typeof b; lastedMs: number } | undefined
        for (const o of await later(obs, [rule.type], HISTORY_LIMIT)) {
          const ob = evaluateThreshold(rule, o, levels)
          if (!ob) break
          if (o.effectiveMs - runStart >= forMs) end = { obs: o, b: ob, lastedMs: o.effectiveMs - runStart }
        }
        if (!end) return lifecycle.unsettled(obs.patientId, rule.id)
        ;({ obs, b, lastedMs } = end)
      }
    }
    await lifecycle.raise(obs.patientId, rule.id, {
      severity: b.severity,
      message: () => breachMessage(rule, b, obs, lastedMs),
      seenAt: obs.effective,
      observationId: obs.id,
      value: b.value,
      lowerIsWorse: b.condition?.op.startsWith('<'),
      unit: rule.unit,
    })
  }

  /**
   * The newest reading that ends a run of `rule.consecutive` breaching readings with `obs` inside it,
   * using readings stored after it (`obs` itself does not end one: `earlierDesc` fell short).
   */
  async function runThrough(
    rule: ThresholdLike,
    levels: ReturnType<typeof levelsFor>,
    obs: StoredObservation,
    earlierDesc: StoredObservation[],
  ): Promise<StoredObservation | undefined> {
    const k = rule.consecutive
    const after = await later(obs, [rule.type], k - 1)
    const before = earlierDesc.slice(0, k - 1).reverse()
    const run = [...before, obs, ...after.slice(0, k - 1)]
    let end: StoredObservation | undefined
    for (let last = before.length + 1; last < run.length; last++) {
      const first = last - k + 1
      if (first >= 0 && run.slice(first, last + 1).every((o) => evaluateThreshold(rule, o, levels)))
        end = run[last]
    }
    return end
  }

  async function trend(rule: TrendRule, obs: StoredObservation, resolveAfterMs: number) {
    const windowMs = Math.max(...rule.windows.map((w) => w.hours)) * 60 * MIN
    const history = await earlier(obs, [rule.type], obs.effectiveMs - windowMs)
    const r = evaluateTrend(rule, obs, history)
    if (r.breach) await raiseTrend(rule, obs, r.breach)
    else if (r.recovered) await lifecycle.recovering(obs.patientId, rule.id, obs, resolveAfterMs)
    else await lifecycle.unsettled(obs.patientId, rule.id)
    // A reading that arrives after newer ones (a scale syncing its memory newest first) is also the
    // baseline of those newer readings: evaluate them again with it, as they were not in order.
    const newer = await later(obs, [rule.type], HISTORY_LIMIT, obs.effectiveMs + windowMs)
    const known = [...history.slice().reverse(), obs, ...newer]
    for (const [i, o] of newer.entries()) {
      const before = known
        .slice(0, history.length + 1 + i)
        .filter((e) => o.effectiveMs - e.effectiveMs <= windowMs)
        .reverse()
      const again = evaluateTrend(rule, o, before)
      // Only what this reading changes: a breach without it was raised when `o` arrived.
      if (
        again.breach &&
        !evaluateTrend(
          rule,
          o,
          before.filter((e) => e.key !== obs.key),
        ).breach
      )
        await raiseTrend(rule, o, again.breach)
    }
  }

  function raiseTrend(rule: TrendRule, obs: StoredObservation, b: TrendBreach) {
    return lifecycle.raise(obs.patientId, rule.id, {
      severity: rule.severity,
      message: () => trendMessage(rule, b),
      seenAt: obs.effective,
      observationId: obs.id,
      value: b.rise,
      unit: rule.unit,
    })
  }

  function news2(
    rule: News2Rule,
    obs: StoredObservation,
    p: Patient | undefined,
    resolveAfterMs: number,
  ): Promise<unknown> | undefined {
    const windowMs = rule.windowMinutes * MIN
    const items = latest.known(obs, windowMs)
    // A patient's first reading seeds the latest values from the store.
    if (items === undefined)
      return latest.current(obs, windowMs).then((seeded) => news2Of(rule, obs, p, resolveAfterMs, seeded))
    return news2Of(rule, obs, p, resolveAfterMs, items)
  }

  function news2Of(
    rule: News2Rule,
    obs: StoredObservation,
    p: Patient | undefined,
    resolveAfterMs: number,
    items: StoredObservation[] | null,
  ): Promise<unknown> | undefined {
    // A late reading older than the latest of its type leaves the current score as it is.
    if (!items) return
    const result = scoreNews2(news2Input(items, p?.flags ?? {}))
    const severity = news2Severity(rule, result)
    if (!severity) return lifecycle.recovering(obs.patientId, rule.id, obs, resolveAfterMs)
    return lifecycle.raise(obs.patientId, rule.id, {
      severity,
      message: (since) => news2Message(result, since, rule.windowMinutes),
      seenAt: obs.effective,
      observationId: obs.id,
      value: result.total,
      score: result.total,
      breakdown: result.breakdown,
      quiet: true,
    })
  }

  /**
   * Evaluate one committed observation for its patient (callers serialize per patient). The rules run
   * in order; `undefined` when all of them were done at once, else a promise of the rest.
   */
  function evaluate(
    obs: StoredObservation,
    patient: Patient | undefined,
    compiled: CompiledRules,
    /** Rules not to run for it: they already raised an alert for it (re-evaluation after a restart). */
    skip?: ReadonlySet<string>,
  ): Promise<void> | undefined {
    latest.observe(obs)
    const rules = compiled.forPatient(obs.patientId).byType.get(obs.type)
    if (!rules) return
    const flags = patient?.flags ?? {}
    const resolveAfterMs = compiled.set.resolveAfterMs
    const apply = (rule: (typeof rules)[number]): Promise<unknown> | undefined => {
      if ((rule.onlyFlag && !flags[rule.onlyFlag]) || skip?.has(rule.id)) return
      if (rule.kind === 'threshold' || rule.kind === 'sustained')
        return threshold(rule, obs, patient, resolveAfterMs)
      if (rule.kind === 'trend') return trend(rule, obs, resolveAfterMs)
      if (rule.kind === 'news2') return news2(rule, obs, patient, resolveAfterMs)
    }
    const from = (i: number): Promise<void> | undefined => {
      for (; i < rules.length; i++) {
        const pending = apply(rules[i])
        if (pending) {
          const next = i + 1
          return pending.then(() => from(next))
        }
      }
    }
    return from(0)
  }

  return { evaluate }
}

export type Engine = ReturnType<typeof createEngine>
