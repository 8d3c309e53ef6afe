import type { EventBus } from '../shared/events.ts'
import type { Logger } from '../shared/logger.ts'
import type { Registry } from './ports.ts'

// Registry changes from any process (the CLI included) reach the server through the registry_events
// table, polled every `intervalMs` and announced as 'registry-changed' (revocations disconnect devices,
// care-team changes reach the worklist). If reading the table fails, those changes are not applied: that
// is logged once (not at every poll) and the registry readiness check is degraded, saying what it
// means and since when, until a poll works again.

export function startRegistryPoll(deps: {
  registry: Pick<Registry, 'eventsSince' | 'lastEventId'>
  events: EventBus
  log: Pick<Logger, 'error' | 'info'>
  intervalMs: number
}) {
  let lastEvent = deps.registry.lastEventId()
  let failingSince: number | undefined
  const timer = setInterval(() => {
    try {
      for (const e of deps.registry.eventsSince(lastEvent)) {
        lastEvent = e.id
        deps.events.emit('registry-changed', { kind: e.kind, subject: e.subject })
      }
      if (failingSince === undefined) return
      failingSince = undefined
      deps.log.info('registry poll works again')
    } catch (err) {
      if (failingSince !== undefined) return
      failingSince = Date.now()
      deps.log.error({ err }, `registry poll failed; retrying every ${deps.intervalMs} ms`)
    }
  }, deps.intervalMs)
  return {
    check(): { ok: boolean; degraded?: boolean; detail?: string } {
      if (failingSince === undefined) return { ok: true }
      return {
        ok: true,
        degraded: true,
        detail: `changes made with the CLI or by another server (revocations, care teams, devices) are not applied since ${new Date(failingSince).toISOString()}`,
      }
    },
    close() {
      clearInterval(timer)
    },
  }
}
