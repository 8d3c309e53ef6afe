import type { Alert } from '../shared/alert.ts'
import type { Logger } from '../shared/logger.ts'
import type { Metrics } from '../shared/metrics.ts'

// Alert work that fails is an alarm that may not have fired, so it is never only a log line: it is
// counted on /metrics (vitalwire_alert_failures_total{stage}) and keeps the alerts readiness check
// degraded, which /readyz and the dashboard's system banner show. The reasons stay in the log: /readyz
// is public.
// - A failed evaluation or minute run keeps the check degraded (how many, since when) until
//   FAILURE_WINDOW_MS pass without another.
// - An escalated alert the webhook has not taken keeps it degraded until it is delivered, or until
//   nobody needs telling any more (the alert was acknowledged or resolved).

/** How long a failure keeps the alerts check degraded after the last one. */
export const FAILURE_WINDOW_MS = 10 * 60_000

export function createAlertHealth(deps: {
  log: Pick<Logger, 'error'>
  now: () => number
  metrics?: Metrics
}) {
  const { now } = deps
  let failures: { count: number; firstMs: number; lastMs: number } | undefined
  // Escalated alerts the webhook has not taken yet (id -> first failure): on call has not been told.
  const undelivered = new Map<string, number>()
  const at = (ms: number) => new Date(ms).toISOString()

  return {
    failed(stage: 'evaluation' | 'scheduled', err: unknown, fields: Record<string, unknown> = {}) {
      deps.log.error(
        { err, ...fields },
        stage === 'evaluation' ? 'alert evaluation failed' : 'scheduled alert checks failed',
      )
      deps.metrics?.alertFailures.inc({ stage })
      const t = now()
      failures =
        failures && t - failures.lastMs < FAILURE_WINDOW_MS
          ? { ...failures, count: failures.count + 1, lastMs: t }
          : { count: 1, firstMs: t, lastMs: t }
    },
    /** An escalation notification's outcome (escalation.ts). */
    notified(alertId: string, err?: unknown) {
      if (err === undefined) undelivered.delete(alertId)
      else {
        if (!undelivered.has(alertId)) undelivered.set(alertId, now())
        deps.metrics?.alertFailures.inc({ stage: 'escalation-webhook' })
      }
    },
    /** Forget undelivered escalations of alerts no longer open: on call no longer needs telling. */
    async forgetAnswered(get: (id: string) => Promise<Alert | undefined>) {
      for (const id of undelivered.keys()) if ((await get(id))?.status !== 'open') undelivered.delete(id)
    },
    check(): { ok: boolean; degraded: boolean; detail?: string } {
      const problems: string[] = []
      if (failures && now() - failures.lastMs < FAILURE_WINDOW_MS)
        problems.push(
          `${failures.count} alert ${failures.count === 1 ? 'check' : 'checks'} failed since ${at(failures.firstMs)}, ` +
            `the last at ${at(failures.lastMs)}: alerts may be missing; the server log has the reasons`,
        )
      if (undelivered.size > 0) {
        const first = Math.min(...undelivered.values())
        problems.push(
          `${undelivered.size} escalated critical ${undelivered.size === 1 ? 'alert has' : 'alerts have'} not reached ` +
            `the escalation webhook since ${at(first)}; retried every minute`,
        )
      }
      return problems.length
        ? { ok: true, degraded: true, detail: problems.join('; ') }
        : { ok: true, degraded: false }
    },
  }
}
