import type { Alert } from '../shared/alert.ts'
import type { Logger } from '../shared/logger.ts'
import type { AlertStore } from '../storage/ports.ts'
import type { Lifecycle } from './lifecycle.ts'

// Escalation: an open critical alert nobody acknowledged within `escalateAfterMs` of becoming critical
// (criticalSince) is marked escalated
// (pushed to every viewer as alert-updated) and handed to the notification hook. Acknowledging stops it
// for everyone, because only `open` alerts escalate. A failed notification is retried at the next run.

/** Where escalations go besides the dashboard (pager, chat, on-call system). */
export interface EscalationNotifier {
  notify(alert: Alert): Promise<void>
}

/** POST `{ "type": "alert-escalated", "alert": ... }` as JSON; any non-2xx status is a failure. */
export function webhookNotifier(url: string, timeoutMs = 5000): EscalationNotifier {
  return {
    async notify(alert) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'alert-escalated', alert }),
        signal: AbortSignal.timeout(timeoutMs),
      })
      await res.arrayBuffer()
      if (!res.ok) throw new Error(`webhook answered ${res.status}`)
    },
  }
}

export interface EscalationDeps {
  store: AlertStore
  lifecycle: Lifecycle
  log: Logger
  now: () => number
  notifier?: EscalationNotifier
  serial<T>(patientId: string, fn: () => Promise<T>): Promise<T>
  /** Each notification's outcome, so that one the hook could not take is never only a log line. */
  notified?(alertId: string, err?: unknown): void
}

/** Open, critical, and critical for `afterMs` (an alert raised to critical counts from then). */
const due = (a: Alert, t: number, afterMs: number) =>
  a.status === 'open' && a.severity === 'critical' && t - Date.parse(a.criticalSince ?? a.openedAt) >= afterMs

async function notify(deps: EscalationDeps, a: Alert) {
  if (!deps.notifier) return
  try {
    await deps.notifier.notify(a)
    a.escalationNotifiedAt = new Date(deps.now()).toISOString()
    await deps.store.update(a)
    deps.notified?.(a.id)
  } catch (err) {
    deps.log.error({ err, alertId: a.id }, 'escalation notification failed; retrying at the next check')
    deps.notified?.(a.id, err)
  }
}

/** Escalate what is due; returns the alerts escalated in this run. */
export async function escalateDue(deps: EscalationDeps, escalateAfterMs: number): Promise<Alert[]> {
  const out: Alert[] = []
  for (const candidate of await deps.store.allLive()) {
    await deps.serial(candidate.patientId, async () => {
      // Re-read inside the patient's queue: someone may have acknowledged it a moment ago.
      const a = await deps.store.get(candidate.id)
      if (!a || !due(a, deps.now(), escalateAfterMs)) return
      if (a.escalated) {
        if (!a.escalationNotifiedAt) await notify(deps, a)
        return
      }
      a.escalated = true
      const minutes = Math.round(escalateAfterMs / 60_000)
      await deps.lifecycle.save(
        a,
        deps.lifecycle.event('escalated', 'system', `not acknowledged within ${minutes} min`),
      )
      deps.log.error({ alertId: a.id, rule: a.rule }, 'critical alert not acknowledged: escalated')
      await notify(deps, a)
      out.push(a)
    })
  }
  return out
}
