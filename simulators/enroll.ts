import fs from 'node:fs'
import path from 'node:path'
import { enrollDevice } from '../shared/provisioning.ts'
import { openEmbeddedStorage } from '../storage/sqlite/index.ts'
import type { FleetPlan } from './fleet.ts'

// `--enroll`: provision the simulated patients and devices in the data dir (the same SQLite file the
// server reads; a running server sees them within a second) and keep the device secrets in an
// owner-only state file, which later runs without --enroll reuse.

export interface StorageLocation {
  dataDir: string
  dbPath: string
  pkiDir: string
  dataKey?: string
}

export interface SimulatorState {
  version: 1
  /** `format`: as enrolled (absent in files written before vendor formats: 'generic'). */
  devices: Record<string, { patientId: string; secret: string; format?: string }>
}

export const stateFile = (dataDir: string) => path.join(dataDir, 'simulator', 'fleet.json')

export function readState(dataDir: string): SimulatorState {
  try {
    return JSON.parse(fs.readFileSync(stateFile(dataDir), 'utf8')) as SimulatorState
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, devices: {} }
    throw e
  }
}

function writeState(dataDir: string, state: SimulatorState) {
  const file = stateFile(dataDir)
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 })
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 })
  fs.renameSync(tmp, file)
}

/** Enroll what is missing; returns the secrets of every device in the plan. */
export async function enrollFleet(plan: FleetPlan, at: StorageLocation): Promise<Record<string, string>> {
  const state = readState(at.dataDir)
  const storage = openEmbeddedStorage({
    dataDir: at.dataDir,
    dbPath: at.dbPath,
    dataKey: at.dataKey,
    outbox: false,
  })
  try {
    for (const p of plan.patients) {
      if (await storage.registry.getPatient(p.id)) continue
      await storage.registry.addPatient({ id: p.id, name: p.name, flags: p.flags })
      storage.audit.append({ actor: 'cli:simulate', action: 'patient.add', outcome: 'ok', patientId: p.id })
    }
    for (const d of plan.devices) {
      const known = state.devices[d.id]
      if (known && (await storage.registry.getDevice(d.id))) {
        sameFormat(d, known)
        continue
      }
      if (await storage.registry.getDevice(d.id)) {
        throw new Error(
          `device ${d.id} is enrolled but its secret is not in ${stateFile(at.dataDir)}; revoke it or use another data dir`,
        )
      }
      const enrolled = await enrollDevice(storage.registry, {
        id: d.id,
        patientId: d.patientId,
        type: d.format,
        auth: 'secret',
        pkiDir: at.pkiDir,
      })
      if (enrolled.auth !== 'secret') throw new Error('unexpected certificate enrollment')
      state.devices[d.id] = { patientId: d.patientId, secret: enrolled.secret, format: d.format }
      storage.audit.append({
        actor: 'cli:simulate',
        action: 'device.add',
        outcome: 'ok',
        patientId: d.patientId,
        target: d.id,
      })
      // Write as we go: an interrupted enrollment must not lose secrets that are already in the registry.
      if (Object.keys(state.devices).length % 100 === 0) writeState(at.dataDir, state)
    }
  } finally {
    writeState(at.dataDir, state)
    storage.close()
  }
  return secretsFor(plan, state)
}

/** A device enrolled with one payload format cannot send another: its mapping would refuse every message. */
function sameFormat(d: FleetPlan['devices'][number], known: { format?: string }) {
  const enrolled = known.format ?? 'generic'
  if (enrolled !== d.format)
    throw new Error(
      `device ${d.id} is enrolled for the ${enrolled} format, not ${d.format}: run with${enrolled === 'generic' ? 'out' : ''} --vendor-formats as when it was enrolled, or use another data dir`,
    )
}

/** The secrets of the plan's devices from the state file; names the first one that is missing. */
export function secretsFor(plan: FleetPlan, state: SimulatorState): Record<string, string> {
  const out: Record<string, string> = {}
  for (const d of plan.devices) {
    const s = state.devices[d.id]
    if (!s) throw new Error(`device ${d.id} is not enrolled: run simulate with --enroll first`)
    sameFormat(d, s)
    out[d.id] = s.secret
  }
  return out
}
