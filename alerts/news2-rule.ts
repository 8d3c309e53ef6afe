import type { Severity } from '../shared/alert.ts'
import type { VitalType } from '../shared/catalog.ts'
import type { StoredObservation } from '../shared/fhir.ts'
import type { Patient } from '../storage/ports.ts'
import { fmt } from './evaluate.ts'
import type { News2Input, News2Result } from './news2.ts'
import type { News2Rule } from './rules.ts'

// NEWS2 as a rule, pure: latest value of each parameter within the window -> score -> severity.

export const NEWS2_TYPES: readonly VitalType[] = [
  'respiratory-rate',
  'spo2',
  'blood-pressure',
  'heart-rate',
  'body-temperature',
]

/** The latest value of each parameter from observations within the window, newest first. */
export function news2Input(windowDesc: StoredObservation[], flags: Patient['flags']): News2Input {
  const i: News2Input = { onOxygen: flags.onOxygen === true, hypercapnic: flags.hypercapnic === true }
  for (const o of windowDesc) {
    const v = o.values.value
    if (o.type === 'respiratory-rate' && i.respiratoryRate === undefined) i.respiratoryRate = v
    else if (o.type === 'spo2' && i.spo2 === undefined) i.spo2 = v
    else if (o.type === 'blood-pressure' && i.systolic === undefined) i.systolic = o.values.systolic
    else if (o.type === 'heart-rate' && i.pulse === undefined) i.pulse = v
    else if (o.type === 'body-temperature' && i.temperature === undefined) i.temperature = v
  }
  return i
}

/** Vitalwire defaults (CLINICAL.md): any parameter 3 -> medium, total >= 5 -> high, >= 7 -> critical. */
export function news2Severity(rule: News2Rule, r: News2Result): Severity | null {
  if (r.total >= 7) return rule.severities.total7
  if (r.total >= 5) return rule.severities.total5
  if (r.anyThree) return rule.severities.anyParameter3
  return null
}

const LABELS: Record<string, [string, string]> = {
  respiratoryRate: ['RR', '/min'],
  spo2: ['SpO2', '%'],
  oxygen: ['on oxygen', ''],
  systolic: ['systolic', 'mm[Hg]'],
  pulse: ['pulse', '/min'],
  consciousness: ['consciousness', ''],
  temperature: ['temp', 'Cel'],
}

/** RCP clinical response wording, so the coordinator knows how urgent it is. */
function response(r: News2Result): string {
  if (r.total >= 7) return 'total >= 7: emergency response'
  if (r.total >= 5) return 'total >= 5: urgent response'
  return 'a parameter scores 3: urgent ward-based review'
}

export function news2Message(r: News2Result, sinceIso: string, windowMinutes: number): string {
  const parts: string[] = []
  for (const [k, b] of Object.entries(r.breakdown)) {
    if (!b.points) continue
    const [label, unit] = LABELS[k]
    const value =
      k === 'oxygen' || k === 'consciousness' ? (b.note ?? '') : `${fmt(b.value)}${unit ? ` ${unit}` : ''}`
    const scale = k === 'spo2' && b.note ? ` ${b.note}` : ''
    parts.push(`${label} ${value}${scale} +${b.points}`.replace(/\s+/g, ' '))
  }
  return `NEWS2 ${r.total} (${response(r)}): ${parts.join(', ')}; latest values within ${windowMinutes} min; since ${sinceIso}`
}
