import type { Alert } from '../shared/alert.ts'
import type { VitalType } from '../shared/catalog.ts'
import { VitalwireError } from '../shared/errors.ts'
import type { EventBus } from '../shared/events.ts'
import type { StoredObservation } from '../shared/fhir.ts'
import type { Logger } from '../shared/logger.ts'
import type { Metrics } from '../shared/metrics.ts'
import type { AlertStore, Device, Patient, ReadingStore } from '../storage/ports.ts'
import { chartThresholds } from './chart-thresholds.ts'
import { type CompiledRules, compileRules } from './compile.ts'
import { DEFAULT_RULES } from './default-rules.ts'
import { createEngine } from './engine.ts'
import { type EscalationNotifier, escalateDue } from './escalation.ts'
import { createAlertHealth } from './health.ts'
import { createLifecycle } from './lifecycle.ts'
import { createProgress } from './progress.ts'
import type { RuleSet } from './rules.ts'
import { createScheduledChecks } from './scheduled.ts'

// The alerts component: evaluates each committed observation (serialized per patient), runs the
// scheduled checks, and exposes the user actions the dashboard calls (acknowledge, resolve, view,
// snooze). Every change to an alert for a patient runs in that patient's queue, so user actions and
// evaluation never overwrite each other.

export { DEFAULT_RULES } from './default-rules.ts'
export { type EscalationNotifier, webhookNotifier } from './escalation.ts'
export { parseRuleSet, type RuleSet } from './rules.ts'

export interface AlertsDeps {
  store: AlertStore
  readings: ReadingStore
  patient(id: string): Promise<Patient | undefined>
  listPatients?(): Promise<Patient[]>
  listDevices?(): Promise<Device[]>
  /** Latest observation of each type per patient; defaults to ReadingStore.latest (replay: as of then). */
  latest?(
    patientIds: string[],
  ): Promise<{ type: VitalType; deviceId: string; effectiveMs: number; receivedMs?: number }[]>
  events: EventBus
  log: Logger
  metrics?: Metrics
  now?: () => number
  notifier?: EscalationNotifier
}

export interface AlertsOptions {
  rules?: RuleSet
  escalateAfterMs: number
  /**
   * Ingest runs in another process (`start --only alerts,...`): its readings reach this one only through
   * the store, so read what it commits every this many ms (in-process ingest announces them instead).
   */
  followStoreMs?: number
}

export const SNOOZE_MAX_MINUTES = 24 * 60
const PATIENT_CACHE_MS = 5000

/**
 * An action on a resolved alert changes nothing: say so (409) rather than answer as if it had worked
 * (of five people resolving at once, one resolved it; the audit said five did).
 */
function notResolved(a: Alert): void {
  if (a.status !== 'resolved') return
  const last = [...a.history].reverse().find((e) => e.action === 'resolved' || e.action === 'auto-resolved')
  throw new VitalwireError(
    'VW_ERR_ALERT_RESOLVED',
    `the alert was already resolved${last ? ` (${last.action === 'auto-resolved' ? 'automatically' : `by ${last.by}`} at ${last.at})` : ''}; nothing changed`,
  )
}

export function createAlerts(deps: AlertsDeps, options: AlertsOptions) {
  const log = deps.log.child({ component: 'alerts' })
  const now = deps.now ?? Date.now
  let compiled: CompiledRules = compileRules(options.rules ?? DEFAULT_RULES)
  const chains = new Map<string, Promise<unknown>>()

  /** Run `fn` after everything queued for this patient; errors reach the caller, not the queue. */
  function serial<T>(patientId: string, fn: () => Promise<T>): Promise<T> {
    return queued(patientId, (chains.get(patientId) ?? Promise.resolve()).then(fn))
  }

  /** Make `run` the end of this patient's queue: what is queued next waits for it. */
  function queued<T>(patientId: string, run: Promise<T>): Promise<T> {
    const settled = run.then(
      () => {},
      () => {},
    )
    chains.set(patientId, settled)
    void settled.then(() => {
      if (chains.get(patientId) === settled) chains.delete(patientId)
    })
    return run
  }

  const lifecycle = createLifecycle({
    store: deps.store,
    events: deps.events,
    log,
    now,
    onOpened: (a) => deps.metrics?.alerts.inc({ rule: a.rule, severity: a.severity }),
  })
  const engine = createEngine({ readings: deps.readings, lifecycle, now })
  const scheduled = createScheduledChecks({
    readings: deps.readings,
    lifecycle,
    listPatients: deps.listPatients ?? (async () => []),
    listDevices: deps.listDevices ?? (async () => []),
    latest: deps.latest ?? ((ids) => deps.readings.latest(ids)),
    serial,
  })

  // Patient profiles (flags) change rarely: cache briefly, and drop an entry as soon as the registry
  // says that patient changed.
  const patients = new Map<string, { p: Patient | undefined; atMs: number }>()
  const MISS = Symbol('not cached')
  function cachedPatient(id: string): Patient | undefined | typeof MISS {
    const hit = patients.get(id)
    return hit && now() - hit.atMs < PATIENT_CACHE_MS ? hit.p : MISS
  }
  async function patient(id: string) {
    const hit = cachedPatient(id)
    if (hit !== MISS) return hit
    const p = await deps.patient(id)
    patients.set(id, { p, atMs: now() })
    return p
  }
  const onRegistry = (e: { kind: string; subject: string }) => {
    if (e.kind.startsWith('patient')) patients.delete(e.subject)
  }
  /**
   * Evaluate one committed observation in its patient's order. With nothing queued for the patient and
   * its profile cached (the usual case) it runs at once, and only what must wait (a store write, a
   * history query) joins the patient's queue; `undefined` when nothing had to wait.
   */
  function evaluate(obs: StoredObservation, skip?: ReadonlySet<string>): Promise<void> | undefined {
    const p = chains.has(obs.patientId) ? MISS : cachedPatient(obs.patientId)
    if (p === MISS)
      return serial(obs.patientId, async () =>
        engine.evaluate(obs, await patient(obs.patientId), compiled, skip),
      )
    const pending = engine.evaluate(obs, p, compiled, skip)
    return pending && queued(obs.patientId, pending)
  }
  // Failures are counted and shown, never only logged (alerts/health.ts).
  const health = createAlertHealth({ log, now, metrics: deps.metrics })
  const progress = createProgress({ store: deps.store, readings: deps.readings, log })
  let onLive: (batch: StoredObservation[]) => void = () => {}
  /** `raised`: after a restart, the rules that already put an observation on an alert (progress.ts). */
  const onObservations = (batch: StoredObservation[], raised?: ReadonlyMap<string, ReadonlySet<string>>) => {
    for (const obs of batch) {
      const failed = (err: unknown) => health.failed('evaluation', err, { patientId: obs.patientId })
      try {
        const pending = evaluate(obs, raised?.get(obs.id))
        progress.seen(obs, pending)
        pending?.catch(failed)
      } catch (err) {
        failed(err)
      }
    }
  }

  /** Load an alert and apply a user action in its patient's queue. */
  async function act(id: string, fn: (a: Alert) => Promise<Alert>): Promise<Alert | undefined> {
    const first = await deps.store.get(id)
    if (!first) return undefined
    return serial(first.patientId, async () => {
      const a = await deps.store.get(id)
      return a ? fn(a) : undefined
    })
  }

  /** Resolve alerts whose values stayed inside the hysteresis band long enough, without a new reading. */
  async function sweep(): Promise<void> {
    const t = now()
    for (const a of await deps.store.allLive()) {
      if (a.recoveringSince === undefined || t - Date.parse(a.recoveringSince) < compiled.set.resolveAfterMs)
        continue
      await serial(a.patientId, async () => {
        const fresh = await deps.store.get(a.id)
        if (fresh?.status !== 'resolved' && fresh?.recoveringSince === a.recoveringSince)
          await lifecycle.resolve(fresh!, 'system', 'values back in range', 'auto-resolved')
      })
    }
  }

  /** Announce what another process commits, in commit order, from `through` on (followStoreMs). */
  let following: NodeJS.Timeout | undefined
  function follow(through: number, everyMs: number) {
    const read = async () => {
      try {
        for (;;) {
          const page = await (deps.readings.committedAfter as NonNullable<ReadingStore['committedAfter']>)(
            through,
            1000,
          )
          if (page.length === 0) break
          through = page[page.length - 1].seq as number
          // Announced as in-process ingest does: evaluated here once (onLive), and pushed to this
          // process's dashboard sockets too.
          deps.events.emit('observations', page)
        }
      } catch (err) {
        health.failed('evaluation', err, { step: 'reading what another process committed' })
      }
      following = setTimeout(read, everyMs)
      following.unref()
    }
    following = setTimeout(read, everyMs)
    following.unref()
  }

  return {
    /**
     * Listen for committed observations, after evaluating first any that were committed but not
     * evaluated when the process last stopped (alerts/progress.ts). Resolves when that catch-up is done,
     * with how many it evaluated; a failure is counted and shown like any evaluation failure.
     */
    async start(): Promise<number> {
      deps.events.on('registry-changed', onRegistry)
      // What is committed meanwhile waits, then is evaluated unless the catch-up (which reads the store
      // to its end) already did: every reading once, in commit order.
      const meanwhile: StoredObservation[] = []
      let catchingUp = true
      onLive = (batch) => (catchingUp ? meanwhile.push(...batch) : onObservations(batch))
      deps.events.on('observations', onLive)
      let caught = { readings: 0, through: 0 }
      try {
        caught = await progress.start(onObservations)
        await this.idle()
      } catch (err) {
        health.failed('evaluation', err, { step: 'catch-up after restart' })
      }
      catchingUp = false
      onObservations(meanwhile.filter((o) => o.seq === undefined || o.seq > caught.through))
      if (options.followStoreMs && deps.readings.committedAfter) follow(caught.through, options.followStoreMs)
      return caught.readings
    },
    async close() {
      clearTimeout(following)
      deps.events.off('observations', onLive)
      deps.events.off('registry-changed', onRegistry)
      await this.idle()
      await progress.close()
    },
    /** Wait until every queued evaluation has finished (tests, shutdown). */
    async idle() {
      while (chains.size) await Promise.all(chains.values())
    },
    /** Evaluate one committed observation (what `observations` events do; replay calls it directly). */
    evaluate,
    setRules(next: RuleSet) {
      compiled = compileRules(next)
    },
    /** The limits of the rules that apply to this patient, for the trend charts (chart-thresholds.ts). */
    thresholdsFor(patientId: string, flags: Record<string, boolean | undefined> = {}) {
      return chartThresholds(compiled, patientId, flags)
    },
    get rules(): RuleSet {
      return compiled.set
    },
    async acknowledge(id: string, by: string, note?: string): Promise<Alert | undefined> {
      return act(id, async (a) => {
        notResolved(a)
        // Acknowledged already: nothing changes, but a note someone adds is kept, never dropped.
        return a.status === 'open' || note ? lifecycle.record(a, 'acknowledged', by, note) : a
      })
    },
    async resolve(id: string, by: string, note?: string): Promise<Alert | undefined> {
      return act(id, async (a) => {
        notResolved(a)
        return lifecycle.resolve(a, by, note)
      })
    },
    /** Keep who looked at an alert and when (history only; not pushed to the team). */
    async recordView(id: string, by: string): Promise<Alert | undefined> {
      return act(id, (a) => lifecycle.record(a, 'viewed', by))
    },
    /**
     * Hide the alert from this user's feed for `minutes` (never from the rest of the team). Critical
     * alerts cannot be snoozed: VW_ERR_ALERT_SNOOZE_CRITICAL.
     */
    async snooze(id: string, userId: number, by: string, minutes: number): Promise<Alert | undefined> {
      if (!Number.isInteger(minutes) || minutes < 1 || minutes > SNOOZE_MAX_MINUTES)
        throw new VitalwireError(
          'VW_ERR_VALIDATION',
          `snooze minutes must be an integer 1-${SNOOZE_MAX_MINUTES}`,
        )
      return act(id, async (a) => {
        notResolved(a)
        if (a.severity === 'critical')
          throw new VitalwireError('VW_ERR_ALERT_SNOOZE_CRITICAL', 'critical alerts cannot be snoozed')
        const untilMs = now() + minutes * 60_000
        await deps.store.snooze(a.id, userId, untilMs)
        return lifecycle.record(a, 'snoozed', by, `until ${new Date(untilMs).toISOString()}`)
      })
    },
    /** Escalate open critical alerts nobody acknowledged in time; returns the escalated ones. */
    async escalate(): Promise<Alert[]> {
      const out = await escalateDue(
        {
          store: deps.store,
          lifecycle,
          log,
          now,
          notifier: deps.notifier,
          serial,
          notified: health.notified,
        },
        options.escalateAfterMs,
      )
      // Someone acknowledged or resolved it meanwhile: on call no longer needs to be told.
      await health.forgetAnswered((id) => deps.store.get(id))
      return out
    },
    sweep,
    /** no-data and device-offline checks at the current time. */
    async checkScheduled(): Promise<void> {
      await scheduled.run(compiled, now())
    },
    /**
     * Everything the minute cron runs: auto-resolve, scheduled checks, escalation. Each step runs
     * whatever happened to the others: a failing no-data check must never stop on call being told.
     */
    async tick(): Promise<void> {
      const steps: [string, () => Promise<unknown>][] = [
        ['auto-resolve', sweep],
        ['no-data and offline checks', () => scheduled.run(compiled, now())],
        ['escalation', () => this.escalate()],
      ]
      for (const [step, run] of steps) {
        try {
          await run()
        } catch (err) {
          health.failed('scheduled', err, { step })
        }
      }
    },
    /** The readiness check (alerts/health.ts). */
    check: health.check,
  }
}

export type Alerts = ReturnType<typeof createAlerts>
