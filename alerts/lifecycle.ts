import { randomUUID } from 'node:crypto'
import type { Alert, AlertEvent, Severity } from '../shared/alert.ts'
import { SEVERITY_RANK } from '../shared/alert.ts'
import type { EventBus } from '../shared/events.ts'
import type { Logger } from '../shared/logger.ts'
import type { AlertStore } from '../storage/ports.ts'

// Alert lifecycle on the store: open -> acknowledged -> resolved. One live alert per patient + rule
// (dedupe, also a partial unique index): repeated breaches update it (count, worst value, last seen).
// Callers serialize per patient (index.ts), so read-modify-write here never races.

export interface Finding {
  severity: Severity
  /** Builds the text from when the alert began and how many findings it holds. */
  message(sinceIso: string, count: number): string
  /** ISO time of the evidence (measurement time, or the check time for scheduled rules). */
  seenAt: string
  observationId?: string
  value?: number
  /** Lower values are worse (SpO2 low) for `worstValue`. */
  lowerIsWorse?: boolean
  unit?: string
  score?: number
  breakdown?: Alert['breakdown']
  /** Scored and scheduled rules: persist and push only when severity, score or message change. */
  quiet?: boolean
  /** Scheduled rules: what the alert is about, for the rule's next check (Alert.about). */
  about?: string[]
}

const HISTORY_MAX = 100
const OBSERVATIONS_MAX = 50

export function createLifecycle(deps: {
  store: AlertStore
  events: EventBus
  log: Logger
  now: () => number
  onOpened?: (a: Alert) => void
}) {
  const iso = (ms: number) => new Date(ms).toISOString()
  const event = (action: AlertEvent['action'], by = 'system', note?: string): AlertEvent => ({
    at: iso(deps.now()),
    by,
    action,
    ...(note ? { note } : {}),
  })

  // Patient + rule pairs known to have no live alert. Only this component opens alerts, so absence
  // stays true until `open` below; most readings are normal and then cost no alert-store read.
  // (Presence is never cached: a user may acknowledge or resolve from another process.)
  // (patient -> rules): nested, so the per-reading check builds no key string.
  const absent = new Map<string, Set<string>>()
  const knownAbsent = (patientId: string, rule: string) => absent.get(patientId)?.has(rule) === true
  async function findLive(patientId: string, rule: string): Promise<Alert | undefined> {
    if (knownAbsent(patientId, rule)) return undefined
    const a = await deps.store.live(patientId, rule)
    if (!a) {
      const rules = absent.get(patientId) ?? new Set<string>()
      rules.add(rule)
      absent.set(patientId, rules)
    }
    return a
  }

  async function save(a: Alert, e: AlertEvent, push = true) {
    a.updatedAt = e.at
    a.history.push(e)
    if (a.history.length > HISTORY_MAX) a.history = [a.history[0], ...a.history.slice(-(HISTORY_MAX - 1))]
    await deps.store.update(a)
    if (push) deps.events.emit('alert-updated', a)
    return a
  }

  async function open(patientId: string, rule: string, f: Finding): Promise<Alert> {
    const t = iso(deps.now())
    const alert: Alert = {
      id: randomUUID(),
      patientId,
      rule,
      severity: f.severity,
      status: 'open',
      message: f.message(f.seenAt, 1),
      openedAt: t,
      updatedAt: t,
      firstSeenAt: f.seenAt,
      lastSeenAt: f.seenAt,
      observationIds: f.observationId ? [f.observationId] : [],
      count: 1,
      ...(f.value !== undefined ? { worstValue: f.value } : {}),
      ...(f.unit ? { unit: f.unit } : {}),
      ...(f.score !== undefined ? { score: f.score, breakdown: f.breakdown } : {}),
      history: [event('opened')],
      ...(f.severity === 'critical' ? { criticalSince: t } : {}),
      ...(f.about ? { about: f.about } : {}),
    }
    absent.get(patientId)?.delete(rule)
    await deps.store.insert(alert)
    deps.onOpened?.(alert)
    deps.log.info({ alertId: alert.id, rule, severity: f.severity }, 'alert opened')
    deps.events.emit('alert', alert)
    return alert
  }

  /**
   * A finding measured no later than the last breach of an alert of its rule that has since been
   * resolved (a buffer uploaded late), and no worse than it: part of the episode already handled. Kept
   * in that alert's history, not opened again: a coordinator who resolved "SpO2 84 %" after a call was
   * paged again for an 83 % from before it. Compared on the readings' own clock (measured times), so a
   * device whose clock runs slow still opens a new episode with a new breach.
   */
  async function handledAlready(patientId: string, rule: string, f: Finding): Promise<Alert | undefined> {
    const prior = await deps.store.lastResolved(patientId, rule)
    if (!prior || SEVERITY_RANK[f.severity] > SEVERITY_RANK[prior.severity]) return undefined
    if (Date.parse(f.seenAt) > Date.parse(prior.lastSeenAt)) return undefined
    const note = `a reading measured at ${f.seenAt}, within this resolved episode, arrived late (${f.message(prior.firstSeenAt ?? prior.openedAt, prior.count + 1)}); not opened again`
    return save(prior, event('updated', 'system', note), false)
  }

  /** Open an alert, or fold this finding into the live one. */
  async function raise(patientId: string, rule: string, f: Finding): Promise<Alert> {
    const live = await findLive(patientId, rule)
    if (!live) return (await handledAlready(patientId, rule, f)) ?? open(patientId, rule, f)
    const raised = SEVERITY_RANK[f.severity] > SEVERITY_RANK[live.severity]
    // The alert keeps its highest severity until it resolves; a milder finding says so, or a CRITICAL
    // badge over "NEWS2 4 ..." reads as a mistake.
    const milder = SEVERITY_RANK[f.severity] < SEVERITY_RANK[live.severity]
    const message = `${f.message(live.firstSeenAt ?? live.openedAt, live.count + 1)}${milder ? ` (now ${f.severity}; the alert stays ${live.severity}, its highest, until it resolves)` : ''}`
    // Scored rules push when the score changes; scheduled rules when what they found changes.
    const changed = raised || (f.score !== undefined ? f.score !== live.score : message !== live.message)
    const wasRecovering = live.recoveringSince !== undefined
    if (f.quiet && !changed && message === live.message && !wasRecovering) return live
    live.count += 1
    delete live.recoveringSince
    if (f.about) live.about = f.about
    if (f.observationId)
      live.observationIds = [...live.observationIds, f.observationId].slice(-OBSERVATIONS_MAX)
    if (Date.parse(f.seenAt) >= Date.parse(live.lastSeenAt)) live.lastSeenAt = f.seenAt
    const worse =
      f.value !== undefined &&
      (live.worstValue === undefined ||
        (f.lowerIsWorse ? f.value < live.worstValue : f.value > live.worstValue))
    if (worse) live.worstValue = f.value
    if (f.score !== undefined) {
      live.score = f.score
      live.breakdown = f.breakdown
    }
    if (raised) {
      live.severity = f.severity
      // A worse severity needs eyes again even if someone acknowledged or snoozed the milder one.
      if (live.status === 'acknowledged') live.status = 'open'
      if (f.severity === 'critical') live.criticalSince = iso(deps.now())
      await deps.store.endSnoozes(live.id)
    }
    live.message = message
    live.updatedAt = iso(deps.now())
    // History keeps what people need to audit (severity changes, user actions), not every repeat:
    // count and lastSeenAt already say how often and how recently it breached.
    if (raised) return save(live, event('updated', 'system', `severity raised to ${f.severity}`))
    await deps.store.update(live)
    if (!f.quiet || changed) deps.events.emit('alert-updated', live)
    return live
  }

  /**
   * Values are back inside the band plus margin in a reading measured at `effectiveMs` (device clock)
   * and received at `receivedMs` (server clock); resolve once that has lasted long enough. Without a live alert (most readings) there
   * is nothing to do, answered at once without a promise.
   */
  function recovering(
    patientId: string,
    rule: string,
    at: { effectiveMs: number; receivedMs: number },
    resolveAfterMs: number,
  ): Promise<void> | undefined {
    return knownAbsent(patientId, rule) ? undefined : recoveringLive(patientId, rule, at, resolveAfterMs)
  }
  async function recoveringLive(
    patientId: string,
    rule: string,
    at: { effectiveMs: number; receivedMs: number },
    resolveAfterMs: number,
  ) {
    const live = await findLive(patientId, rule)
    if (!live) return
    // A reading measured before the alert's latest breach (a device replaying its buffer, a slow
    // clock) says nothing about now: counting recovery from its time would end the alert early.
    if (at.effectiveMs <= Date.parse(live.lastSeenAt)) return
    // The hysteresis clock is the server's (when readings arrived), as for the minute's sweep. On the
    // device's clock, a clock 45 minutes slow or a buffer uploaded late counted as recovery time
    // already passed, and the sweep ended a critical alert one minute after it opened, before anyone
    // saw it or it could escalate.
    if (live.recoveringSince === undefined) {
      live.recoveringSince = iso(at.receivedMs)
      await deps.store.update(live)
    }
    if (at.receivedMs - Date.parse(live.recoveringSince) >= resolveAfterMs)
      await resolve(live, 'system', 'values back in range', 'auto-resolved')
  }

  /** Neither breaching nor recovered (inside the margin): the hysteresis clock starts again. */
  function unsettled(patientId: string, rule: string): Promise<void> | undefined {
    return knownAbsent(patientId, rule) ? undefined : unsettledLive(patientId, rule)
  }
  async function unsettledLive(patientId: string, rule: string) {
    const live = await findLive(patientId, rule)
    if (live?.recoveringSince === undefined) return
    delete live.recoveringSince
    await deps.store.update(live)
  }

  async function resolve(
    a: Alert,
    by: string,
    note?: string,
    action: 'resolved' | 'auto-resolved' = 'resolved',
  ) {
    a.status = 'resolved'
    delete a.recoveringSince
    return save(a, event(action, by, note))
  }

  /** Record a user's action (viewed, acknowledged, snoozed) in the history; views and snoozes are
   * personal, so they are kept but not pushed to the rest of the team. */
  async function record(a: Alert, action: AlertEvent['action'], by: string, note?: string) {
    if (action === 'acknowledged') a.status = 'acknowledged'
    return save(a, event(action, by, note), action === 'acknowledged')
  }

  return { raise, recovering, unsettled, resolve, record, save, event, live: findLive }
}

export type Lifecycle = ReturnType<typeof createLifecycle>
