// Client state: patients with their latest readings, alerts and devices; updated by WebSocket messages.

export interface Reading {
  type: string
  effective: string
  values: Record<string, number>
  unit?: string
  interpretation?: string
}

export interface PatientRow {
  id: string
  name: string
  monitoring?: boolean
  flags?: Record<string, boolean>
  latest: Record<string, Reading>
}

export type Severity = 'critical' | 'high' | 'medium' | 'low'

export interface AlertItem {
  id: string
  patientId: string
  rule: string
  severity: Severity
  status: 'open' | 'acknowledged' | 'resolved'
  message: string
  openedAt: string
  updatedAt: string
  count: number
  score?: number
  /** An open critical alert nobody acknowledged in time: on call has been told. */
  escalated?: boolean
  snoozedUntil?: string
  history?: { at: string; by: string; action: string; note?: string }[]
}

export const RANK = { critical: 4, high: 3, medium: 2, low: 1 } as const

const TYPE_BY_LOINC: Record<string, string> = {
  '8867-4': 'heart-rate',
  '9279-1': 'respiratory-rate',
  '2708-6': 'spo2',
  '8310-5': 'body-temperature',
  '29463-7': 'body-weight',
  '41653-7': 'blood-glucose',
  '85354-9': 'blood-pressure',
  '55423-8': 'steps',
  '41950-7': 'steps',
}

export function fromObservation(o: any): Reading | undefined {
  const type = (o.code?.coding ?? []).map((c: any) => TYPE_BY_LOINC[c.code]).find(Boolean)
  if (!type) return undefined
  const values: Record<string, number> = {}
  if (o.valueQuantity) values.value = o.valueQuantity.value
  for (const c of o.component ?? []) {
    const k = c.code.coding[0].code === '8480-6' ? 'systolic' : 'diastolic'
    values[k] = c.valueQuantity.value
  }
  return {
    type,
    effective: o.effectiveDateTime,
    values,
    unit: o.valueQuantity?.code ?? o.component?.[0]?.valueQuantity.code,
    interpretation: o.interpretation?.[0]?.coding?.[0]?.code,
  }
}

export function createStore() {
  const patients = new Map<string, PatientRow>()
  const alerts = new Map<string, AlertItem>()
  /** Bumped on every change, so views can tell what to redraw. */
  const version = { patients: 0, alerts: 0 }
  /** Per-patient revision, bumped on every change to that patient, so views recompute only those. */
  const rev = new Map<string, number>()
  const bump = (id: string) => rev.set(id, (rev.get(id) ?? 0) + 1)
  const listeners = new Set<(m: any, prev?: AlertItem) => void>()
  return {
    patients,
    alerts,
    version,
    rev,
    /** Bumped by every full load: everything a view memoized before is stale. */
    generation: 0,
    load(ps: PatientRow[], as: AlertItem[]) {
      patients.clear()
      for (const p of ps)
        patients.set(p.id, {
          id: p.id,
          name: p.name,
          monitoring: p.monitoring,
          flags: p.flags,
          latest: p.latest ?? {},
        })
      alerts.clear()
      for (const a of as) alerts.set(a.id, a)
      rev.clear()
      this.generation++
      version.patients++
      version.alerts++
    },
    apply(m: any) {
      if (m.type === 'observation') {
        const p = patients.get(m.patientId)
        const r = fromObservation(m.observation)
        if (p && r) {
          const prev = p.latest[r.type]
          if (!prev || Date.parse(prev.effective) <= Date.parse(r.effective)) {
            p.latest[r.type] = r
            bump(p.id)
            version.patients++
          }
        }
      }
      let prev: AlertItem | undefined
      if (m.type === 'alert' || m.type === 'alert-updated') {
        prev = alerts.get(m.alert.id)
        // Messages buffered during a reload may be older than what the reload returned: keep the newest.
        if (!prev || Date.parse(m.alert.updatedAt) >= Date.parse(prev.updatedAt)) {
          // A snooze ends when the alert gets worse (the server ends it too).
          const worse = prev && RANK[m.alert.severity as Severity] > RANK[prev.severity]
          alerts.set(m.alert.id, { ...m.alert, snoozedUntil: worse ? undefined : prev?.snoozedUntil })
          bump(m.alert.patientId)
          version.alerts++
        }
      }
      for (const l of listeners) l(m, prev)
    },
    setAlert(a: AlertItem) {
      alerts.set(a.id, { ...alerts.get(a.id), ...a })
      bump(a.patientId)
      version.alerts++
    },
    /**
     * Views that care about raw messages (the patient view, the critical banner) subscribe here; for an
     * alert message, `prev` is what the store held for that alert before it.
     */
    subscribe(fn: (m: any, prev?: AlertItem) => void): () => void {
      listeners.add(fn)
      return () => listeners.delete(fn)
    },
    unresolvedOf(patientId: string): AlertItem[] {
      return [...alerts.values()].filter((a) => a.patientId === patientId && a.status !== 'resolved')
    },
  }
}

export type Store = ReturnType<typeof createStore>
