import { type RuleSet, ruleSetSchema } from './rules.ts'

// The default rule set: the table "Default alert rules" in ../shared/reference/CLINICAL.md, numbers
// used exactly. Every rule can be changed per program and per patient (rules.ts).

const lt = (limit: number, field = 'value') => ({ field, op: '<' as const, limit })
const le = (limit: number, field = 'value') => ({ field, op: '<=' as const, limit })
const gt = (limit: number, field = 'value') => ({ field, op: '>' as const, limit })
const ge = (limit: number, field = 'value') => ({ field, op: '>=' as const, limit })

export const DEFAULT_RULES: RuleSet = ruleSetSchema.parse({
  rules: [
    {
      id: 'spo2-low',
      kind: 'threshold',
      type: 'spo2',
      levels: [
        { severity: 'critical', any: [lt(85)] },
        { severity: 'high', any: [lt(90)] },
      ],
      flagLevels: {
        hypercapnic: [
          { severity: 'critical', any: [lt(85)] },
          { severity: 'high', any: [lt(88)] },
        ],
      },
      margin: 2,
      unit: '%',
      label: 'SpO2',
    },
    {
      id: 'hr-high',
      kind: 'threshold',
      type: 'heart-rate',
      levels: [{ severity: 'high', any: [gt(130)] }],
      margin: 5,
      unit: '/min',
      label: 'Heart rate',
    },
    {
      id: 'hr-low',
      kind: 'threshold',
      type: 'heart-rate',
      levels: [{ severity: 'high', any: [lt(40)] }],
      margin: 5,
      unit: '/min',
      label: 'Heart rate',
    },
    {
      id: 'rr-high',
      kind: 'threshold',
      type: 'respiratory-rate',
      levels: [{ severity: 'high', any: [ge(25)] }],
      margin: 0,
      unit: '/min',
      label: 'Respiratory rate',
    },
    {
      id: 'rr-low',
      kind: 'threshold',
      type: 'respiratory-rate',
      levels: [{ severity: 'high', any: [le(8)] }],
      margin: 0,
      unit: '/min',
      label: 'Respiratory rate',
    },
    {
      id: 'bp-crisis',
      kind: 'threshold',
      type: 'blood-pressure',
      levels: [{ severity: 'critical', any: [gt(180, 'systolic'), gt(120, 'diastolic')] }],
      margin: 5,
      unit: 'mm[Hg]',
      label: 'Blood pressure',
      advice: 'AHA: re-measure after 1-2 minutes; act on symptoms of organ damage at once',
    },
    {
      id: 'bp-high',
      kind: 'threshold',
      type: 'blood-pressure',
      levels: [{ severity: 'medium', any: [ge(160, 'systolic'), ge(100, 'diastolic')] }],
      consecutive: 2,
      margin: 5,
      unit: 'mm[Hg]',
      label: 'Blood pressure',
    },
    {
      id: 'bp-low',
      kind: 'threshold',
      type: 'blood-pressure',
      levels: [{ severity: 'high', any: [lt(90, 'systolic')] }],
      margin: 5,
      unit: 'mm[Hg]',
      label: 'Systolic blood pressure',
    },
    {
      id: 'temp-fever',
      kind: 'threshold',
      type: 'body-temperature',
      levels: [
        { severity: 'high', any: [ge(39.1)] },
        { severity: 'medium', any: [ge(38.0)] },
      ],
      margin: 0.2,
      unit: 'Cel',
      label: 'Temperature',
    },
    {
      id: 'temp-low',
      kind: 'threshold',
      type: 'body-temperature',
      levels: [{ severity: 'high', any: [le(35.0)] }],
      margin: 0.2,
      unit: 'Cel',
      label: 'Temperature',
    },
    {
      id: 'glucose-low',
      kind: 'threshold',
      type: 'blood-glucose',
      levels: [
        { severity: 'critical', any: [lt(54)] },
        { severity: 'high', any: [lt(70)] },
      ],
      outOfRange: 'L',
      margin: 10,
      unit: 'mg/dL',
      label: 'Glucose',
    },
    {
      id: 'glucose-high',
      kind: 'threshold',
      type: 'blood-glucose',
      levels: [
        { severity: 'high', any: [gt(400)] },
        { severity: 'medium', any: [gt(250)] },
      ],
      outOfRange: 'H',
      margin: 10,
      unit: 'mg/dL',
      label: 'Glucose',
    },
    {
      // Heart-failure patient-education convention: 3 lb (1.4 kg) in a day or 5 lb (2.3 kg) in a week.
      id: 'weight-gain',
      kind: 'trend',
      type: 'body-weight',
      label: 'Weight',
      onlyFlag: 'heartFailure',
      windows: [
        { hours: 24, rise: 1.4 },
        { hours: 7 * 24, rise: 2.3 },
      ],
      severity: 'medium',
      unit: 'kg',
      advice: 'possible fluid retention: check symptoms and diuretic adherence',
    },
    // RCP NEWS2 (2017); Vitalwire severities: any parameter 3 medium, total >= 5 high, >= 7 critical.
    { id: 'news2', kind: 'news2', label: 'NEWS2' },
    // Nightscout-style stale data; 24 h default, sooner for devices with a known short cadence.
    {
      id: 'no-data',
      kind: 'no-data',
      label: 'No data',
      cadenceMinutes: { 'blood-pressure': 720 },
    },
    { id: 'device-offline', kind: 'device-offline', label: 'Device' },
  ],
})
