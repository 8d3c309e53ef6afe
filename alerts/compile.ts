import type { VitalType } from '../shared/catalog.ts'
import { isEnabled } from './evaluate.ts'
import { NEWS2_TYPES } from './news2-rule.ts'
import { applyOverride, type Program, type Rule, type RuleSet } from './rules.ts'

// A rule set compiled for fast lookup: for each patient the enabled rules (overrides applied), indexed
// by the vital type that triggers them. Patients without overrides or a program share one index.

export interface PatientRules {
  byType: Map<VitalType, Rule[]>
  /** no-data and device-offline, run on the schedule. */
  scheduled: Rule[]
  program?: Program
}

export interface CompiledRules {
  set: RuleSet
  forPatient(patientId: string): PatientRules
}

function triggers(rule: Rule): readonly VitalType[] {
  if (rule.kind === 'news2') return NEWS2_TYPES
  if (rule.kind === 'no-data' || rule.kind === 'device-offline') return []
  return [rule.type]
}

function index(set: RuleSet, patientId: string | undefined): PatientRules {
  const byType = new Map<VitalType, Rule[]>()
  const scheduled: Rule[] = []
  const overrides = patientId ? set.patientOverrides[patientId] : undefined
  for (const base of set.rules) {
    if (!isEnabled(set, base.id, patientId ?? '')) continue
    const rule = applyOverride(base, overrides?.[base.id])
    if (rule.kind === 'no-data' || rule.kind === 'device-offline') scheduled.push(rule)
    for (const t of triggers(rule)) byType.set(t, [...(byType.get(t) ?? []), rule])
  }
  const program = patientId ? set.programs[set.patientPrograms[patientId] ?? ''] : undefined
  return { byType, scheduled, ...(program ? { program } : {}) }
}

export function compileRules(set: RuleSet): CompiledRules {
  const shared = index(set, undefined)
  const special = new Map<string, PatientRules>()
  return {
    set,
    forPatient(patientId) {
      if (!set.patientOverrides[patientId] && !set.patientPrograms[patientId]) return shared
      let r = special.get(patientId)
      if (!r) {
        r = index(set, patientId)
        special.set(patientId, r)
      }
      return r
    },
  }
}
