import type { Reading } from './store.ts'

export const LABELS: Record<string, string> = {
  'heart-rate': 'HR',
  'respiratory-rate': 'RR',
  spo2: 'SpO₂',
  'body-temperature': 'Temp',
  'body-weight': 'Weight',
  'blood-glucose': 'Glucose',
  'blood-pressure': 'BP',
  steps: 'Steps',
}

export const VITAL_COLUMNS = [
  'blood-pressure',
  'heart-rate',
  'spo2',
  'respiratory-rate',
  'body-temperature',
  'blood-glucose',
  'body-weight',
]

const UNIT_LABEL: Record<string, string> = {
  '/min': '/min',
  '%': '%',
  Cel: '°C',
  kg: 'kg',
  'mg/dL': 'mg/dL',
  'mm[Hg]': 'mmHg',
  '{steps}': 'steps',
}

/** A value with its unit, always: never a bare number whose unit one must guess. */
export function formatReading(r: Reading): string {
  if (r.type === 'blood-pressure') return `${r.values.systolic}/${r.values.diastolic} mmHg`
  if (r.values.value === undefined)
    return r.interpretation === 'L'
      ? 'LO (below meter range)'
      : r.interpretation === 'H'
        ? 'HI (above meter range)'
        : '—'
  return `${r.values.value} ${UNIT_LABEL[r.unit ?? ''] ?? r.unit ?? ''}`.trim()
}

export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.round(s / 60)} min ago`
  if (s < 86400) return `${Math.round(s / 3600)} h ago`
  return `${Math.round(s / 86400)} d ago`
}

export function localTime(iso: string): string {
  return new Date(iso).toLocaleString(undefined, {
    dateStyle: 'short',
    timeStyle: 'short',
    timeZoneName: 'short',
  })
}
