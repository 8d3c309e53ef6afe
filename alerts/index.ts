import { randomUUID } from 'node:crypto'
import type { Alert, AlertEvent, Severity } from '../shared/alert.ts'
import { SEVERITY_RANK } from '../shared/alert.ts'
import type { EventBus } from '../shared/events.ts'
import type { StoredObservation } from '../shared/fhir.ts'
import type { Logger } from '../shared/logger.ts'
import type { Metrics } from '../shared/metrics.ts'
import type { AlertStore, Patient, ReadingStore } from '../storage/ports.ts'
import { type Breach, breachMessage, evaluateThreshold, isEnabled, levelsFor, recovered } from './evaluate.ts'
import { DEFAULT_RULES, type RuleSet, type ThresholdRule } from './rules.ts'

// Alert lifecycle: open -> acknowledged -> resolved. One live alert per patient + rule (dedupe):
// repeated breaches update it; flapping values never open and close a stream of alerts, because an
// alert resolves only after values stay back inside the band plus a margin for `resolveAfterMs`.

export interface AlertsDeps {
  store: AlertStore
  readings: ReadingStore
  patient(id: string): Promise<Patient | undefined>
  events: EventBus
  log: Logger
  metrics: Metrics
  now?: () => number
}

export interface AlertsOptions {
  rules?: RuleSet
  escalateAfterMs: number
}

export function createAlerts(deps: AlertsDeps, options: AlertsOptions) {
  const log = deps.log.child({ component: 'alerts' })
  const now = deps.now ?? Date.now
  let rules = options.rules ?? DEFAULT_RULES
  // Per-patient queue: one patient's observations are evaluated in order, never concurrently.
  const chains = new Map<string, Promise<void>>()
  // When a live alert's values came back inside the band (hysteresis), keyed by alert id.
  const recoveredSince = new Map<string, number>()

  const iso = (ms: number) => new Date(ms).toISOString()
  const event = (action: AlertEvent['action'], by = 'system', note?: string): AlertEvent => ({
    at: iso(now()),
    by,
    action,
    ...(note ? { note } : {}),
  })

  async function previousBreaches(
    rule: ThresholdRule,
    obs: StoredObservation,
    levels: ReturnType<typeof levelsFor>,
  ): Promise<boolean> {
    const page = await deps.readings.search({
      patientIds: [obs.patientId],
      types: [rule.type],
      toMs: obs.effectiveMs,
      sort: 'desc',
      limit: rule.consecutive,
    })
    const earlier = page.items.filter((o) => o.key !== obs.key).slice(0, rule.consecutive - 1)
    return earlier.length === rule.consecutive - 1 && earlier.every((o) => evaluateThreshold(rule, o, levels))
  }

  async function onBreach(rule: ThresholdRule, obs: StoredObservation, b: Breach) {
    const live = await deps.store.live(obs.patientId, rule.id)
    const t = now()
    if (!live) {
      const alert: Alert = {
        id: randomUUID(),
        patientId: obs.patientId,
        rule: rule.id,
        severity: b.severity,
        status: 'open',
        message: breachMessage(rule, b, obs, obs.resource.effectiveDateTime, 1),
        openedAt: iso(t),
        updatedAt: iso(t),
        lastSeenAt: obs.resource.effectiveDateTime,
        observationIds: [obs.id],
        count: 1,
        worstValue: b.value,
        unit: rule.unit,
        history: [event('opened')],
      }
      await deps.store.insert(alert)
      deps.metrics.alerts.inc({ rule: rule.id, severity: b.severity })
      log.info({ alertId: alert.id, rule: rule.id, severity: b.severity }, 'alert opened')
      deps.events.emit('alert', alert)
      return
    }
    recoveredSince.delete(live.id)
    const lower = b.condition?.op.startsWith('<')
    const worse =
      b.value !== undefined &&
      (live.worstValue === undefined || (lower ? b.value < live.worstValue : b.value > live.worstValue))
    const escalate = SEVERITY_RANK[b.severity] > SEVERITY_RANK[live.severity]
    live.count += 1
    live.observationIds = [...live.observationIds, obs.id].slice(-50)
    if (Date.parse(obs.resource.effectiveDateTime) >= Date.parse(live.lastSeenAt))
      live.lastSeenAt = obs.resource.effectiveDateTime
    if (worse) live.worstValue = b.value
    if (escalate) {
      live.severity = b.severity
      // A worse severity needs eyes again even if someone acknowledged the milder one.
      if (live.status === 'acknowledged') live.status = 'open'
    }
    live.message = breachMessage(rule, b, obs, live.history[0]?.at ?? live.openedAt, live.count)
    live.updatedAt = iso(t)
    live.history.push(event('updated', 'system', escalate ? `severity raised to ${b.severity}` : undefined))
    live.history = live.history.slice(-100)
    await deps.store.update(live)
    deps.events.emit('alert-updated', live)
  }

  async function onRecovered(rule: ThresholdRule, obs: StoredObservation) {
    const live = await deps.store.live(obs.patientId, rule.id)
    if (!live) return
    const since = recoveredSince.get(live.id) ?? obs.effectiveMs
    recoveredSince.set(live.id, since)
    if (obs.effectiveMs - since >= rules.resolveAfterMs)
      await resolve(live, 'system', 'values back in range', 'auto-resolved')
  }

  async function evaluateOne(obs: StoredObservation) {
    const patient = await deps.patient(obs.patientId)
    const flags = patient?.flags ?? {}
    for (const rule of rules.rules) {
      if (rule.kind !== 'threshold' || rule.type !== obs.type || !isEnabled(rules, rule.id, obs.patientId))
        continue
      const levels = levelsFor(rule, flags, rules.patientOverrides[obs.patientId]?.[rule.id])
      const b = evaluateThreshold(rule, obs, levels)
      if (b) {
        if (rule.consecutive > 1 && !(await previousBreaches(rule, obs, levels))) continue
        await onBreach(rule, obs, b)
      } else if (recovered(rule, obs, levels)) {
        await onRecovered(rule, obs)
      }
    }
  }

  function enqueue(obs: StoredObservation) {
    const prev = chains.get(obs.patientId) ?? Promise.resolve()
    const next = prev
      .then(() => evaluateOne(obs))
      .catch((e) => log.error({ err: e, patientId: obs.patientId }, 'alert evaluation failed'))
      .finally(() => {
        if (chains.get(obs.patientId) === next) chains.delete(obs.patientId)
      })
    chains.set(obs.patientId, next)
  }

  async function resolve(
    alert: Alert,
    by: string,
    note: string | undefined,
    action: 'resolved' | 'auto-resolved' = 'resolved',
  ) {
    alert.status = 'resolved'
    alert.updatedAt = iso(now())
    alert.history.push(event(action, by, note))
    recoveredSince.delete(alert.id)
    await deps.store.update(alert)
    deps.events.emit('alert-updated', alert)
    return alert
  }

  const onObservations = (batch: StoredObservation[]) => {
    for (const o of batch) enqueue(o)
  }

  return {
    start() {
      deps.events.on('observations', onObservations)
    },
    async close() {
      deps.events.off('observations', onObservations)
      await Promise.all(chains.values())
    },
    /** Wait until every queued evaluation has finished (tests, shutdown). */
    async idle() {
      while (chains.size) await Promise.all(chains.values())
    },
    setRules(next: RuleSet) {
      rules = next
    },
    get rules() {
      return rules
    },
    async acknowledge(id: string, by: string, note?: string): Promise<Alert | undefined> {
      const a = await deps.store.get(id)
      if (a?.status !== 'open') return a
      a.status = 'acknowledged'
      a.updatedAt = iso(now())
      a.history.push(event('acknowledged', by, note))
      await deps.store.update(a)
      deps.events.emit('alert-updated', a)
      return a
    },
    async resolve(id: string, by: string, note?: string): Promise<Alert | undefined> {
      const a = await deps.store.get(id)
      if (!a || a.status === 'resolved') return a
      return resolve(a, by, note)
    },
    /** Escalate open critical alerts nobody acknowledged in time; returns the escalated ones. */
    async escalate(): Promise<Alert[]> {
      const t = now()
      const out: Alert[] = []
      for (const a of await deps.store.allLive()) {
        if (a.status !== 'open' || a.escalated || a.severity !== ('critical' as Severity)) continue
        if (t - Date.parse(a.openedAt) < options.escalateAfterMs) continue
        a.escalated = true
        a.updatedAt = iso(t)
        a.history.push(
          event(
            'escalated',
            'system',
            `not acknowledged within ${Math.round(options.escalateAfterMs / 60_000)} min`,
          ),
        )
        await deps.store.update(a)
        log.error({ alertId: a.id, rule: a.rule }, 'critical alert not acknowledged: escalated')
        deps.events.emit('alert-updated', a)
        out.push(a)
      }
      return out
    },
  }
}

export type Alerts = ReturnType<typeof createAlerts>
