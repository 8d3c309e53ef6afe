import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { VitalType } from '../shared/catalog.ts'
import { EventBus } from '../shared/events.ts'
import type { StoredObservation } from '../shared/fhir.ts'
import { createLogger } from '../shared/logger.ts'
import { openEmbeddedStorage } from '../storage/sqlite/index.ts'
import type { EscalationNotifier } from './escalation.ts'
import { type AlertsOptions, createAlerts } from './index.ts'

// Test fixtures for alerts/ unit tests (not a test file itself): observations, and a real alerts
// component on a temporary SQLite database with an injected clock.

let seq = 0
export const T0 = Date.parse('2026-11-27T08:00:00Z')
export const MIN = 60_000

export function obs(
  patientId: string,
  type: VitalType,
  values: Record<string, number>,
  atMs: number,
  deviceId = `${patientId}-dev`,
): StoredObservation {
  const key = `${deviceId}:r-${++seq}`
  const id = `o${seq}`
  const effective = new Date(atMs).toISOString()
  return {
    id,
    key,
    patientId,
    deviceId,
    type,
    effectiveMs: atMs,
    receivedMs: atMs,
    values,
    resource: {
      resourceType: 'Observation',
      id,
      meta: { profile: [] },
      identifier: [{ system: 'urn:vitalwire:reading', value: key }],
      status: 'final',
      category: [],
      code: { coding: [] },
      subject: { reference: `Patient/${patientId}` },
      device: { reference: `Device/${deviceId}` },
      effectiveDateTime: effective,
      issued: effective,
    },
  }
}

export async function alertsFixture(options: Partial<AlertsOptions> = {}, notifier?: EscalationNotifier) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-alerts-'))
  const storage = openEmbeddedStorage({ dataDir: dir, dbPath: path.join(dir, 'v.db'), outbox: false })
  const events = new EventBus()
  const clock = { ms: T0 }
  const log = createLogger({ level: 'silent' })
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
        now: () => clock.ms,
        notifier,
      },
      { escalateAfterMs: 15 * MIN, ...options },
    )
  let alerts = make()
  alerts.start()
  const pushed: { type: 'alert' | 'alert-updated'; alert: any }[] = []
  events.on('alert', (a) => pushed.push({ type: 'alert', alert: structuredClone(a) }))
  events.on('alert-updated', (a) => pushed.push({ type: 'alert-updated', alert: structuredClone(a) }))
  return {
    storage,
    events,
    clock,
    get alerts() {
      return alerts
    },
    pushed,
    /** A new alerts component on the same database, as after a process restart. */
    async restart() {
      await alerts.close()
      alerts = make()
      alerts.start()
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
