import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { EscalationNotifier } from '../../alerts/escalation.ts'
import { type AlertsOptions, createAlerts } from '../../alerts/index.ts'
import { MIN, T0 } from '../../alerts/test-observation.ts'
import { EventBus } from '../../shared/events.ts'
import type { StoredObservation } from '../../shared/fhir.ts'
import { createLogger } from '../../shared/logger.ts'
import { createMetrics } from '../../shared/metrics.ts'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'

// A real alerts component on a temporary SQLite database with an injected clock, for the alerts tests
// (not a test file itself). Lives under test/ because it opens the SQLite adapter, which alerts/ may not.

export async function alertsFixture(options: Partial<AlertsOptions> = {}, notifier?: EscalationNotifier) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-alerts-'))
  const clock = { ms: T0 }
  const storage = openEmbeddedStorage({
    dataDir: dir,
    dbPath: path.join(dir, 'v.db'),
    outbox: false,
    now: () => clock.ms,
  })
  const events = new EventBus()
  const log = createLogger({ level: 'silent' })
  const metrics = createMetrics()
  const make = () =>
    createAlerts(
      {
        store: storage.alerts,
        readings: storage.readings,
        patient: (id) => storage.registry.getPatient(id),
        listPatients: () => storage.registry.listPatients(),
        listDevices: () => storage.registry.listDevices(),
        events,
        log,
        metrics,
        now: () => clock.ms,
        notifier,
      },
      { escalateAfterMs: 15 * MIN, ...options },
    )
  let alerts = make()
  await alerts.start()
  const pushed: { type: 'alert' | 'alert-updated'; alert: any }[] = []
  events.on('alert', (a) => pushed.push({ type: 'alert', alert: structuredClone(a) }))
  events.on('alert-updated', (a) => pushed.push({ type: 'alert-updated', alert: structuredClone(a) }))
  return {
    storage,
    events,
    clock,
    metrics,
    get alerts() {
      return alerts
    },
    pushed,
    /**
     * A new alerts component on the same database, as after a process restart; `between` runs while
     * none is running (to leave the database as a crash would).
     */
    async restart(between?: () => void) {
      await alerts.close()
      between?.()
      alerts = make()
      await alerts.start()
    },
    of: (rule: string) => pushed.filter((p) => p.alert.rule === rule),
    /** Commit observations, publish them as ingest does, and wait for evaluation (clock = last time). */
    async feed(...batch: StoredObservation[]) {
      for (const o of batch) {
        clock.ms = Math.max(clock.ms, o.effectiveMs)
        await storage.readings.write([o])
        events.emit('observations', [o])
        await alerts.idle()
      }
    },
    live: (patientId: string, rule: string) => storage.alerts.live(patientId, rule),
    async close() {
      await alerts.close()
      storage.close()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}
export type AlertsFixture = Awaited<ReturnType<typeof alertsFixture>>

export { MIN, obs, T0 } from '../../alerts/test-observation.ts'
