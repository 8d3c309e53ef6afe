import { roundTo, vital } from '../shared/catalog.ts'
import type { CanonicalReading } from './messages.ts'
import type { DeviceKind } from './profiles.ts'

// Vendor payload formats: with --vendor-formats, the devices of a kind that has a shipped mapping
// (ingest/mappings/vendors/*.json) are enrolled with that mapping and send its format, so the mapping path
// is driven as real vendor devices drive it. The readings are the same the canonical format would carry.

export const VENDOR_FORMAT: Partial<Record<DeviceKind, string>> = {
  cuff: 'cellular-bp-cuff',
  scale: 'scale-lb',
  oximeter: 'pulse-ox-batch',
  glucometer: 'glucometer-mmol',
}

// The catalog's own conversions, backwards: the vendor sends what ingest converts.
const KG_PER_LB = vital('body-weight').units.lb.factor
const MGDL_PER_MMOLL = vital('blood-glucose').units['mmol/L'].factor

/**
 * The vendor's own reading counter: a whole number unique to this run (the run's start in seconds,
 * then the device's count), as a device's counter would be, so that a rerun is not taken for a replay.
 */
export function vendorCounter(runStartMs: number, n: number): number {
  return Math.floor(runStartMs / 1000) * 1_000_000 + n
}

export interface VendorContext {
  deviceId: string
  runStartMs: number
  /** Numbers the messages and records of this device. */
  next: () => number
}

/**
 * The messages carrying `readings` in `format`: one message, or one per reading for a vendor whose
 * message holds a single measurement (the scale). Each message says how many canonical readings it holds.
 */
export function encodeVendor(
  format: string,
  readings: CanonicalReading[],
  ctx: VendorContext,
): { payload: string; readings: number }[] {
  const battery = readings.find((r) => r.battery !== undefined)?.battery
  switch (format) {
    case 'cellular-bp-cuff':
      return [
        {
          payload: JSON.stringify({
            imei: ctx.deviceId,
            model: 'BPM-4G',
            ...(battery === undefined ? {} : { battery: { pct: battery } }),
            measurements: readings.map((r) => ({
              seq: vendorCounter(ctx.runStartMs, ctx.next()),
              takenAt: r.ts,
              sys: r.systolic,
              dia: r.diastolic,
              ...(r.pulse === undefined ? {} : { pul: r.pulse }),
              unitFlag: 0,
            })),
          }),
          readings: readings.length,
        },
      ]
    case 'scale-lb':
      return readings.map((r) => ({
        payload: JSON.stringify({
          serial: ctx.deviceId,
          type: 'weight',
          data: {
            weight_lb: r.unit === 'lb' ? r.value : roundTo(Number(r.value) / KG_PER_LB, 1),
            // Unix seconds with milliseconds: two weighings never share an id.
            measured_at: Date.parse(r.ts) / 1000,
          },
          ...(r.battery === undefined ? {} : { battery_pct: r.battery }),
        }),
        readings: 1,
      }))
    case 'pulse-ox-batch': {
      // One sample holds an SpO2 and a pulse rate measured together.
      const samples: { t: number; spo2?: number; pr?: number }[] = []
      for (const r of readings) {
        const t = Date.parse(r.ts)
        const free = samples.find((x) => x.t === t && (r.type === 'spo2' ? x.spo2 : x.pr) === undefined)
        const s = free ?? { t }
        if (!free) samples.push(s)
        if (r.type === 'spo2') s.spo2 = Number(r.value)
        else s.pr = Number(r.value)
      }
      return [
        {
          payload: JSON.stringify({
            sn: ctx.deviceId,
            upload: `u${vendorCounter(ctx.runStartMs, ctx.next())}`,
            samples,
          }),
          readings: readings.length,
        },
      ]
    }
    case 'glucometer-mmol':
      return [
        {
          payload: JSON.stringify({
            meter: ctx.deviceId,
            records: readings.map((r) => ({
              idx: vendorCounter(ctx.runStartMs, ctx.next()),
              when: r.ts,
              glu:
                typeof r.value === 'string'
                  ? r.value
                  : r.unit === 'mmol/L'
                    ? r.value
                    : roundTo(Number(r.value) / MGDL_PER_MMOLL, 1),
            })),
          }),
          readings: readings.length,
        },
      ]
    default:
      throw new Error(`no encoder for vendor format ${format}`)
  }
}
