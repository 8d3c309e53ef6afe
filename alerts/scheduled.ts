import type { VitalType } from '../shared/catalog.ts'
import type { Device, Patient, ReadingStore } from '../storage/ports.ts'
import type { CompiledRules } from './compile.ts'
import type { Lifecycle } from './lifecycle.ts'
import type { DeviceOfflineRule, NoDataRule, Program } from './rules.ts'
import {
  deviceMessage,
  deviceProblems,
  learnedCadenceMs,
  noDataMessage,
  type Silence,
  silentAfter,
  silentTypes,
} from './stale.ts'

// The scheduled checks (node-cron in main.ts): no-data per patient and device-offline per device. An
// alert opens when a check finds a problem and resolves at the first check that finds none.

export interface ScheduledDeps {
  readings: ReadingStore
  lifecycle: Lifecycle
  listPatients(): Promise<Patient[]>
  listDevices(): Promise<Device[]>
  /** Latest observation of each type per patient (live: ReadingStore.latest). */
  latest(
    patientIds: string[],
  ): Promise<{ type: VitalType; deviceId: string; effectiveMs: number; receivedMs?: number }[]>
  serial<T>(patientId: string, fn: () => Promise<T>): Promise<T>
}

const LEARN_FROM = 6

export function createScheduledChecks(deps: ScheduledDeps) {
  async function silences(
    rule: NoDataRule,
    p: Patient,
    program: Program | undefined,
    devices: Device[],
    nowMs: number,
  ) {
    const latest = await deps.latest([p.id])
    const required = program?.requiredTypes ?? latest.map((l) => l.type)
    const entries: Silence[] = []
    for (const type of required) {
      const last = latest.find((l) => l.type === type)
      const deviceType = devices.find((d) => d.id === last?.deviceId)?.type
      let s = silentAfter(rule, type, { program, deviceType })
      if (s.basis === 'default' && last) {
        const page = await deps.readings.search({
          patientIds: [p.id],
          types: [type],
          toMs: nowMs,
          sort: 'desc',
          limit: LEARN_FROM,
        })
        s = silentAfter(rule, type, {
          program,
          deviceType,
          learnedMs: learnedCadenceMs(
            page.items.map((o) => o.effectiveMs),
            rule.minSilentMinutes * 60_000,
          ),
        })
      }
      // Silent means nothing arrived: a device whose clock runs 90 minutes slow, sending every 5, is
      // not silent, although its newest reading is stamped 90 minutes ago.
      const lastMs = last && Math.max(last.effectiveMs, last.receivedMs ?? last.effectiveMs)
      entries.push({ type, ...(lastMs !== undefined ? { lastMs } : {}), ...s })
    }
    return silentTypes(entries, nowMs, p.createdMs, p.monitoringSinceMs)
  }

  /** The key of a device's low battery in a device-offline alert's `about`. */
  const LOW_BATTERY = ':battery-low'

  async function settle(patientId: string, ruleId: string, note: string) {
    const live = await deps.lifecycle.live(patientId, ruleId)
    if (live) await deps.lifecycle.resolve(live, 'system', note, 'auto-resolved')
  }

  async function noData(
    rule: NoDataRule,
    p: Patient,
    program: Program | undefined,
    devices: Device[],
    nowMs: number,
  ) {
    const silent = await silences(rule, p, program, devices, nowMs)
    if (silent.length === 0) return settle(p.id, rule.id, 'data received')
    await deps.lifecycle.raise(p.id, rule.id, {
      severity: rule.severity,
      message: () => noDataMessage(silent),
      seenAt: new Date(nowMs).toISOString(),
      quiet: true,
    })
  }

  async function offline(rule: DeviceOfflineRule, p: Patient, devices: Device[], nowMs: number) {
    const live = await deps.lifecycle.live(p.id, rule.id)
    const lowAlready = new Set(
      (live?.about ?? []).filter((k) => k.endsWith(LOW_BATTERY)).map((k) => k.slice(0, -LOW_BATTERY.length)),
    )
    const problems = deviceProblems(rule, devices, nowMs, p.monitoringSinceMs, lowAlready)
    if (problems.length === 0) return settle(p.id, rule.id, 'devices back online')
    await deps.lifecycle.raise(p.id, rule.id, {
      severity: rule.severity,
      message: () => deviceMessage(rule, problems),
      seenAt: new Date(nowMs).toISOString(),
      quiet: true,
      about: problems.flatMap((d) => (d.battery !== undefined ? [`${d.deviceId}${LOW_BATTERY}`] : [])),
    })
  }

  /** Run every scheduled rule for every monitored patient at `nowMs`. */
  async function run(compiled: CompiledRules, nowMs: number) {
    const [patients, devices] = await Promise.all([deps.listPatients(), deps.listDevices()])
    for (const p of patients) {
      const { scheduled, program } = compiled.forPatient(p.id)
      if (scheduled.length === 0) continue
      if (!p.monitoring) {
        // Paused: nothing is expected of the patient's devices, so what the checks found is over (and
        // once monitoring resumes, silence counts from then).
        await deps.serial(p.id, async () => {
          for (const rule of scheduled) await settle(p.id, rule.id, 'monitoring paused')
        })
        continue
      }
      const own = devices.filter((d) => d.patientId === p.id)
      await deps.serial(p.id, async () => {
        for (const rule of scheduled) {
          if (rule.onlyFlag && !p.flags[rule.onlyFlag]) continue
          if (rule.kind === 'no-data') await noData(rule, p, program, own, nowMs)
          if (rule.kind === 'device-offline') await offline(rule, p, own, nowMs)
        }
      })
    }
  }

  return { run }
}
