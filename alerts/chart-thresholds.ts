import type { Severity } from '../shared/alert.ts'
import type { VitalType } from '../shared/catalog.ts'
import type { CompiledRules } from './compile.ts'
import { levelsFor } from './evaluate.ts'

// The limits of the rules that apply to one patient (overrides, program and profile flags included),
// for the lines on the dashboard's trend charts. The charts used to draw the default limits whatever the
// rule set said, so a reading that breached a patient's own limit could sit under a line and look fine.

export interface ChartThreshold {
  type: VitalType
  /** In the canonical unit of the type. */
  value: number
  severity: Severity
  /** Rule id, and the component for blood pressure ("bp-crisis systolic"). */
  label: string
  field?: string
}

export function chartThresholds(
  compiled: CompiledRules,
  patientId: string,
  flags: Record<string, boolean | undefined>,
): ChartThreshold[] {
  const out: ChartThreshold[] = []
  for (const rules of compiled.forPatient(patientId).byType.values())
    for (const rule of rules) {
      if (rule.kind !== 'threshold' && rule.kind !== 'sustained') continue
      if (rule.onlyFlag && !flags[rule.onlyFlag]) continue
      for (const level of levelsFor(rule, flags))
        for (const c of level.any) {
          const field = c.field === 'value' ? undefined : c.field
          out.push({
            type: rule.type,
            value: c.limit,
            severity: level.severity,
            label: field ? `${rule.id} ${field}` : rule.id,
            ...(field ? { field } : {}),
          })
        }
    }
  return out
}
