import {
  batteryPct,
  DEVICE_KINDS,
  type DeviceTraits,
  drawTraits,
  type Measurement,
  nextScheduledMs,
} from './devices.ts'
import { vitalsAt } from './physiology.ts'
import { createRng, type Rng } from './prng.ts'
import {
  type Baseline,
  type DeviceKind,
  drawBaseline,
  PROFILE_DEFINITIONS,
  type Profile,
  type ProfileChoice,
  profileAt,
} from './profiles.ts'
import { intensity, SCENARIO_DEFINITIONS, type ScheduledScenario } from './scenarios.ts'
import { VENDOR_FORMAT } from './vendor.ts'

// A fleet plan: simulated patients with their profiles and baselines, and the devices bound to them.
// Ids depend only on the prefix, profile and index, so an enrolled fleet can be reused across runs. A
// patient's baseline and a device's traits depend only on those ids too: the same patient is the same
// person whatever the seed (a weight that jumped 10 kg between two runs with different seeds raised a
// weight-gain alert). The seed drives what varies from run to run: noise, timing, faults.

export interface SimPatient {
  id: string
  name: string
  profile: Profile
  baseline: Baseline
  flags: Record<string, boolean>
  /** Scheduled or injected scenarios; mutable so scenarios can be injected while running. */
  scenarios: ScheduledScenario[]
}

export interface SimDevice {
  id: string
  patientId: string
  kind: DeviceKind
  traits: DeviceTraits
  /** Payload format, as enrolled: 'generic' (canonical readings) or a vendor mapping id (vendor.ts). */
  format: string
}

export interface FleetPlan {
  patients: SimPatient[]
  devices: SimDevice[]
}

export function planFleet(o: {
  devices: number
  profile: ProfileChoice
  prefix?: string
  /** Devices of a kind with a shipped vendor mapping send that vendor's format. */
  vendorFormats?: boolean
}): FleetPlan {
  // Not the seed: see above.
  const root = createRng(0)
  const patients: SimPatient[] = []
  const devices: SimDevice[] = []
  for (let i = 0; devices.length < o.devices; i++) {
    const profile = profileAt(o.profile, i)
    const id = `${o.prefix ?? 'sim'}-${profile}-${String(i + 1).padStart(4, '0')}`
    const def = PROFILE_DEFINITIONS[profile]
    const rng = root.fork(id)
    patients.push({
      id,
      name: `Simulated ${profile} patient ${i + 1}`,
      profile,
      baseline: drawBaseline(profile, rng),
      flags: { ...def.flags },
      scenarios: [],
    })
    for (const kind of def.devices) {
      if (devices.length >= o.devices) break
      devices.push({
        id: `${id}-${kind}`,
        patientId: id,
        kind,
        traits: drawTraits(kind, rng.fork(kind)),
        format: (o.vendorFormats && VENDOR_FORMAT[kind]) || 'generic',
      })
    }
  }
  return { patients, devices }
}

export interface Sample {
  simMs: number
  measurements: Measurement[]
  batteryPct: number
}

export interface DeviceModel {
  device: SimDevice
  patient: SimPatient
  /** Simulated time of the next measurement. */
  nextDueMs: number
  /** The next measurement is a symptomatic spot check (a scenario's), not the device's routine. */
  nextIsCheck: boolean
  /** Measure now and schedule the next one. */
  take(simMs: number): Sample
  /** True while a device scenario (gone silent, battery dead) keeps it from sending. */
  silent(simMs: number): boolean
  /** After a scenario injection: bring forward a symptomatic spot check. */
  reschedule(simMs: number): void
}

function scenariosFor(m: { device: SimDevice; patient: SimPatient }) {
  return m.patient.scenarios.filter((s) => s.deviceId === undefined || s.deviceId === m.device.id)
}

/** A device's deterministic stream of samples. The first sample is due at once (the device syncs on start). */
export function createDeviceModel(
  device: SimDevice,
  patient: SimPatient,
  seed: number,
  startSimMs: number,
): DeviceModel {
  const rng: Rng = createRng(seed).fork(device.id)
  const kind = DEVICE_KINDS[device.kind]
  let scheduled = startSimMs
  const symptomDue = (simMs: number): number => {
    let due = Number.POSITIVE_INFINITY
    for (const s of scenariosFor(model)) {
      const every = SCENARIO_DEFINITIONS[s.kind].symptomaticCheckMs
      if (!every || !kind.symptomatic.includes(s.kind)) continue
      const since = simMs - s.startSimMs
      // Symptoms start a little into the ramp; check then and every `every` while unwell.
      const firstCheck = s.startSimMs + Math.min(SCENARIO_DEFINITIONS[s.kind].rampMs, every)
      if (since < 0 || simMs < firstCheck) due = Math.min(due, firstCheck)
      else if (intensity(s.kind, since) > 0) due = Math.min(due, simMs + every)
    }
    return due
  }
  const model: DeviceModel = {
    device,
    patient,
    nextDueMs: startSimMs,
    nextIsCheck: false,
    take(simMs) {
      const v = vitalsAt(patient.baseline, simMs, patient.scenarios)
      const measurements = kind.measure(v, rng, device.traits.usUnits)
      let battery = batteryPct(device.traits, simMs)
      for (const s of scenariosFor(model)) {
        const k = intensity(s.kind, simMs - s.startSimMs)
        if (s.kind === 'battery-drain' && k > 0) battery = Math.round(battery + (2 - battery) * k)
      }
      if (simMs >= scheduled) scheduled = nextScheduledMs(device.kind, simMs, rng)
      const check = symptomDue(simMs)
      model.nextDueMs = Math.min(scheduled, check)
      model.nextIsCheck = check < scheduled
      return { simMs, measurements, batteryPct: battery }
    },
    silent(simMs) {
      return scenariosFor(model).some((s) => {
        const since = simMs - s.startSimMs
        if (s.kind === 'device-silent') return intensity(s.kind, since) > 0
        // A drained battery goes dead once it reaches the plateau.
        return s.kind === 'battery-drain' && since >= SCENARIO_DEFINITIONS[s.kind].rampMs
      })
    },
    reschedule(simMs) {
      const check = symptomDue(simMs)
      if (check < model.nextDueMs) Object.assign(model, { nextDueMs: check, nextIsCheck: true })
    },
  }
  return model
}
