import type { Alert, Severity } from '../shared/alert.ts'
import { SEVERITY_RANK } from '../shared/alert.ts'
import type { VitalType } from '../shared/catalog.ts'
import { EventBus } from '../shared/events.ts'
import type { Logger } from '../shared/logger.ts'
import type { Patient, ReadingStore } from '../storage/ports.ts'
import { createAlerts } from './index.ts'
import { createMemoryAlertStore } from './memory-store.ts'
import type { RuleSet } from './rules.ts'

// Dry run: replay stored history through a candidate rule set with the live alerts component itself
// (same engine, lifecycle and scheduled checks), on a private event bus and an in-memory alert store,
// with the clock set to each reading's time. Nothing is raised for real and nobody is notified.

export interface ReplayOptions {
  rules: RuleSet
  fromMs: number
  toMs: number
  readings: ReadingStore
  patients: Patient[]
  log: Logger
  /** How often (simulated time) the scheduled checks and auto-resolve run; default 15 min. */
  tickMs?: number
  pageSize?: number
}

export interface ReplayReport {
  from: string
  to: string
  readings: number
  alerts: number
  bySeverity: Record<Severity, number>
  byRule: Record<string, { total: number } & Partial<Record<Severity, number>>>
  byPatient: Record<string, { total: number; rules: Record<string, number> }>
  raised: Pick<
    Alert,
    'id' | 'patientId' | 'rule' | 'severity' | 'openedAt' | 'count' | 'message' | 'status'
  >[]
  /** Rules the replay cannot judge from stored readings alone. */
  notReplayed: string[]
}

export async function replay(o: ReplayOptions): Promise<ReplayReport> {
  const store = createMemoryAlertStore()
  const clock = { ms: o.fromMs }
  const latest = new Map<string, Map<VitalType, { type: VitalType; deviceId: string; effectiveMs: number }>>()
  const alerts = createAlerts(
    {
      store,
      readings: o.readings,
      patient: async (id) => o.patients.find((p) => p.id === id),
      listPatients: async () => o.patients,
      // Connection history is not stored, so device-offline cannot be replayed.
      listDevices: async () => [],
      latest: async (ids) => ids.flatMap((id) => [...(latest.get(id)?.values() ?? [])]),
      events: new EventBus(),
      log: o.log,
      now: () => clock.ms,
    },
    { rules: o.rules, escalateAfterMs: Number.MAX_SAFE_INTEGER },
  )
  const tickMs = o.tickMs ?? 15 * 60_000
  let nextTick = o.fromMs + tickMs
  const tickUntil = async (ms: number) => {
    for (; nextTick <= ms; nextTick += tickMs) {
      clock.ms = nextTick
      await alerts.sweep()
      await alerts.checkScheduled()
    }
  }
  let count = 0
  let after: string | undefined
  do {
    const page = await o.readings.search({
      fromMs: o.fromMs,
      toMs: o.toMs,
      sort: 'asc',
      limit: o.pageSize ?? 1000,
      after,
    })
    for (const obs of page.items) {
      await tickUntil(obs.effectiveMs)
      clock.ms = obs.effectiveMs
      const byType = latest.get(obs.patientId) ?? new Map()
      latest.set(obs.patientId, byType)
      byType.set(obs.type, { type: obs.type, deviceId: obs.deviceId, effectiveMs: obs.effectiveMs })
      await alerts.evaluate(obs)
      count++
    }
    after = page.next
  } while (after)
  await tickUntil(o.toMs)
  return report(o, count, store.all())
}

function report(o: ReplayOptions, readings: number, all: Alert[]): ReplayReport {
  const r: ReplayReport = {
    from: new Date(o.fromMs).toISOString(),
    to: new Date(o.toMs).toISOString(),
    readings,
    alerts: all.length,
    bySeverity: { critical: 0, high: 0, medium: 0, low: 0 },
    byRule: {},
    byPatient: {},
    raised: [],
    notReplayed: o.rules.rules.filter((x) => x.kind === 'device-offline' && x.enabled).map((x) => x.id),
  }
  const sorted = [...all].sort(
    (a, b) => a.openedAt.localeCompare(b.openedAt) || SEVERITY_RANK[b.severity] - SEVERITY_RANK[a.severity],
  )
  for (const a of sorted) {
    r.bySeverity[a.severity]++
    r.byRule[a.rule] ??= { total: 0 }
    const rule = r.byRule[a.rule]
    rule.total++
    rule[a.severity] = (rule[a.severity] ?? 0) + 1
    r.byPatient[a.patientId] ??= { total: 0, rules: {} }
    const p = r.byPatient[a.patientId]
    p.total++
    p.rules[a.rule] = (p.rules[a.rule] ?? 0) + 1
    const { id, patientId, rule: ruleId, severity, openedAt, count, message, status } = a
    r.raised.push({ id, patientId, rule: ruleId, severity, openedAt, count, message, status })
  }
  return r
}
