// Alert limits drawn on the trend charts: the server sends those of the rules that apply to the patient
// (overrides, program and profile flags included) with the patient's detail, in canonical units. (The
// charts used to draw the documented defaults, whatever the rule set said.)

export interface Threshold {
  value: number
  severity: 'critical' | 'high' | 'medium' | 'low'
  /** Rule id, and the component for blood pressure ("bp-crisis systolic"). */
  label: string
  /** For blood pressure: which component the line belongs to. */
  field?: string
}

export interface PatientThreshold extends Threshold {
  type: string
}
