// Default alert thresholds drawn on the trend charts, in canonical units (CLINICAL.md, "Default alert
// rules"). The server's rules are configurable per patient; these are the documented defaults.

export interface Threshold {
  value: number
  severity: 'critical' | 'high' | 'medium'
  label: string
  /** For blood pressure: which component the line belongs to. */
  field?: 'systolic' | 'diastolic'
}

export function thresholdsFor(type: string, flags: { hypercapnic?: boolean } = {}): Threshold[] {
  switch (type) {
    case 'spo2':
      return [
        { value: flags.hypercapnic ? 88 : 90, severity: 'high', label: 'spo2-low' },
        { value: 85, severity: 'critical', label: 'spo2-low' },
      ]
    case 'heart-rate':
      return [
        { value: 130, severity: 'high', label: 'hr-high' },
        { value: 40, severity: 'high', label: 'hr-low' },
      ]
    case 'respiratory-rate':
      return [
        { value: 25, severity: 'high', label: 'rr-high' },
        { value: 8, severity: 'high', label: 'rr-low' },
      ]
    case 'blood-pressure':
      return [
        { value: 180, severity: 'critical', label: 'bp-crisis systolic', field: 'systolic' },
        { value: 160, severity: 'medium', label: 'bp-high systolic', field: 'systolic' },
        { value: 90, severity: 'high', label: 'bp-low systolic', field: 'systolic' },
        { value: 120, severity: 'critical', label: 'bp-crisis diastolic', field: 'diastolic' },
        { value: 100, severity: 'medium', label: 'bp-high diastolic', field: 'diastolic' },
      ]
    case 'body-temperature':
      return [
        { value: 38.0, severity: 'medium', label: 'temp-fever' },
        { value: 39.1, severity: 'high', label: 'temp-fever' },
        { value: 35.0, severity: 'high', label: 'temp-low' },
      ]
    case 'blood-glucose':
      return [
        { value: 70, severity: 'high', label: 'glucose-low' },
        { value: 54, severity: 'critical', label: 'glucose-low' },
        { value: 250, severity: 'medium', label: 'glucose-high' },
        { value: 400, severity: 'high', label: 'glucose-high' },
      ]
    default:
      return []
  }
}
