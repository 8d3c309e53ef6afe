import type { FleetPlan, SimPatient } from './fleet.ts'
import type { DeviceKind, Profile } from './profiles.ts'
import { isScenarioKind, parseDuration, type ScenarioKind, type ScheduledScenario } from './scenarios.ts'

// Which patient a scenario happens to: one with a device that can show it, preferring the profile for
// which it is typical (desaturation in COPD, weight gain in heart failure, ...).

// `flag`: a patient flag the scenario's alert rule needs (weight-gain applies to heart failure only).
const SHOWN_BY: Record<ScenarioKind, { devices: DeviceKind[]; prefer?: Profile; flag?: string }> = {
  desaturation: { devices: ['oximeter', 'wearable'], prefer: 'copd' },
  'hypertensive-crisis': { devices: ['cuff'], prefer: 'hypertension' },
  // Only a thermometer shows a fever as such (temp-fever); a wearable alone would show a fast pulse
  // with no cause on screen.
  fever: { devices: ['thermometer'], prefer: 'copd' },
  'weight-gain': { devices: ['scale'], prefer: 'heart-failure', flag: 'heartFailure' },
  hypoglycemia: { devices: ['glucometer'], prefer: 'diabetes' },
  'device-silent': { devices: ['wearable', 'cuff', 'scale', 'glucometer', 'oximeter', 'thermometer'] },
  'battery-drain': { devices: ['wearable', 'cuff', 'scale', 'glucometer', 'oximeter', 'thermometer'] },
}

/** What a patient needs to show this scenario, in words: "a scale, on a heartFailure patient". */
export function whatShows(kind: ScenarioKind): string {
  const { devices, flag } = SHOWN_BY[kind]
  const any = devices.length > 2 ? 'any device' : devices.map((d) => `a ${d}`).join(' or ')
  return `${any}${flag ? `, on a patient flagged ${flag}` : ''}`
}

export function candidates(plan: FleetPlan, kind: ScenarioKind): SimPatient[] {
  const { devices, prefer, flag } = SHOWN_BY[kind]
  const able = plan.patients.filter(
    (p) =>
      (!flag || p.flags[flag]) && plan.devices.some((d) => d.patientId === p.id && devices.includes(d.kind)),
  )
  const ranked = [...able.filter((p) => p.profile === prefer), ...able.filter((p) => p.profile !== prefer)]
  // Patients already in an episode come last, so several scenarios spread over several patients.
  return [...ranked.filter((p) => p.scenarios.length === 0), ...ranked.filter((p) => p.scenarios.length > 0)]
}

/**
 * A patient not in an episode yet if there is one (the best suited first); once every suitable patient
 * has had one, the `nth` scenario of this kind goes to the nth of them (wrapping around). Indexing the
 * list by `nth` while patients still moved to its end skipped free patients and doubled up others.
 */
export function target(
  plan: FleetPlan,
  kind: ScenarioKind,
  nth: number,
  startSimMs: number,
): ScheduledScenario {
  const list = candidates(plan, kind)
  if (list.length === 0) throw new Error(`no simulated patient has a device that shows ${kind}`)
  const patient = list[0].scenarios.length === 0 ? list[0] : list[nth % list.length]
  const device = plan.devices.find(
    (d) => d.patientId === patient.id && SHOWN_BY[kind].devices.includes(d.kind),
  )
  const deviceScenario = kind === 'device-silent' || kind === 'battery-drain'
  return { kind, patientId: patient.id, startSimMs, ...(deviceScenario ? { deviceId: device?.id } : {}) }
}

/** `desaturation@2m,fever,hypoglycemia@1h`: each at that simulated offset from the start (default 0). */
export function parseScenarioList(text: string): { kind: ScenarioKind; atMs: number }[] {
  return text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((part) => {
      const [kind, at] = part.split('@')
      if (!isScenarioKind(kind)) throw new Error(`unknown scenario ${JSON.stringify(kind)}`)
      const atMs = at === undefined ? 0 : parseDuration(at)
      if (atMs === undefined) throw new Error(`scenario ${kind}: not a duration: ${at} (e.g. 90s, 10m, 2h)`)
      return { kind, atMs }
    })
}
