// Client state: patients with their latest readings, and alerts; updated by WebSocket messages.

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
  latest: Record<string, Reading>
}

export interface AlertItem {
  id: string
  patientId: string
  rule: string
  severity: 'critical' | 'high' | 'medium' | 'low'
  status: 'open' | 'acknowledged' | 'resolved'
  message: string
  openedAt: string
  updatedAt: string
  count: number
  snoozedUntil?: string
}

export const RANK = { critical: 4, high: 3, medium: 2, low: 1 } as const

function fromObservation(o: any): Reading | undefined {
  const code = o.code?.coding?.[0]?.code
  const type = TYPE_BY_LOINC[code]
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

const TYPE_BY_LOINC: Record<string, string> = {
  '8867-4': 'heart-rate',
  '9279-1': 'respiratory-rate',
  '2708-6': 'spo2',
  '8310-5': 'body-temperature',
  '29463-7': 'body-weight',
  '41653-7': 'blood-glucose',
  '85354-9': 'blood-pressure',
  '55423-8': 'steps',
}

export function createStore() {
  const patients = new Map<string, PatientRow>()
  const alerts = new Map<string, AlertItem>()
  let pending = false
  return {
    patients,
    alerts,
    load(ps: PatientRow[], as: AlertItem[]) {
      patients.clear()
      for (const p of ps) patients.set(p.id, { id: p.id, name: p.name, latest: p.latest ?? {} })
      alerts.clear()
      for (const a of as) alerts.set(a.id, a)
    },
    apply(m: any) {
      if (m.type === 'observation') {
        const p = patients.get(m.patientId)
        const r = fromObservation(m.observation)
        if (p && r) {
          const prev = p.latest[r.type]
          if (!prev || Date.parse(prev.effective) <= Date.parse(r.effective)) p.latest[r.type] = r
        }
      } else if (m.type === 'alert' || m.type === 'alert-updated') {
        const prev = alerts.get(m.alert.id)
        alerts.set(m.alert.id, { ...m.alert, snoozedUntil: prev?.snoozedUntil })
      }
    },
    /** Coalesce renders to one per animation frame, so a stream of updates never janks the page. */
    schedule(render: () => void) {
      if (pending) return
      pending = true
      requestAnimationFrame(() => {
        pending = false
        render()
      })
    },
    openAlertsOf(patientId: string): AlertItem[] {
      return [...alerts.values()].filter((a) => a.patientId === patientId && a.status !== 'resolved')
    },
  }
}

export type Store = ReturnType<typeof createStore>
