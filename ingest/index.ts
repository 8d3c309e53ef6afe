import type { EventBus } from '../shared/events.ts'
import type { Logger } from '../shared/logger.ts'
import type { Metrics } from '../shared/metrics.ts'
import type { DeadLetter, Journal } from '../storage/ports.ts'
import { type DecodeItem, decode, type PayloadMapping, type Rejection } from './decode.ts'
import { toObservations } from './to-observation.ts'

// Ingest: decode -> validate -> normalize -> FHIR -> durable commit (valid -> readings, invalid -> dead
// letters) -> events. `accept` resolves only after the commit, so the broker can PUBACK afterwards.

export interface DeviceBinding {
  patientId: string
  /** Payload mapping id ('generic' = canonical readings). */
  type: string
}

export interface IngestDeps {
  journal: Journal
  events: EventBus
  log: Logger
  metrics: Metrics
  /** Resolve a mapping id to a vendor mapping; undefined for canonical payloads. */
  mappingFor?: (type: string) => PayloadMapping | undefined
  now?: () => number
}

export interface IngestOptions {
  maxFutureMs: number
  maxAgeMs: number
}

export interface AcceptResult {
  accepted: number
  duplicates: number
  rejected: Rejection[]
  battery?: number
}

export function createIngest(deps: IngestDeps, options: IngestOptions) {
  const log = deps.log.child({ component: 'ingest' })
  const now = deps.now ?? Date.now

  async function accept(deviceId: string, device: DeviceBinding, payload: Uint8Array): Promise<AcceptResult> {
    const receivedMs = now()
    const limits = { nowMs: receivedMs, maxFutureMs: options.maxFutureMs, maxAgeMs: options.maxAgeMs }
    const mapping = device.type === 'generic' ? undefined : deps.mappingFor?.(device.type)
    let items: DecodeItem[]
    try {
      items = decode(payload, limits, mapping)
    } catch (e) {
      // decode() returns results; this guards against a bug there ever costing a device its connection.
      log.error({ deviceId, err: e }, 'decoder failed unexpectedly')
      items = [{ ok: false, code: 'VW_ERR_INTERNAL', message: 'reading could not be decoded' }]
    }
    const accepted = []
    const rejected: Rejection[] = []
    let battery: number | undefined
    for (const item of items) {
      if (item.ok) {
        accepted.push(...toObservations(item.reading, { deviceId, patientId: device.patientId, receivedMs }))
        if (item.reading.battery !== undefined) battery = item.reading.battery
      } else {
        rejected.push({ readingId: item.readingId, code: item.code, message: item.message })
      }
    }
    const deadLetters: DeadLetter[] = rejected.map((r) => ({
      deviceId,
      readingId: r.readingId ?? null,
      code: r.code,
      reason: r.message,
      // The whole message is kept once per publish so the reading can be repaired and replayed.
      payload: payload.byteLength <= 64 * 1024 ? payload : null,
      receivedMs,
    }))
    const { fresh } = await deps.journal.commit({ accepted, deadLetters })
    deps.metrics.commitSeconds.observe((now() - receivedMs) / 1000)
    const duplicates = accepted.length - fresh.length
    if (fresh.length) deps.metrics.readings.inc({ outcome: 'accepted', code: '' }, fresh.length)
    if (duplicates) deps.metrics.readings.inc({ outcome: 'duplicate', code: '' }, duplicates)
    for (const r of rejected) {
      deps.metrics.readings.inc({ outcome: 'rejected', code: r.code })
      log.warn({ deviceId, readingId: r.readingId, code: r.code, reason: r.message }, 'reading rejected')
    }
    if (fresh.length) {
      try {
        deps.events.emit('observations', fresh)
      } catch (e) {
        log.error({ err: e }, 'observation listener failed')
      }
    }
    return { accepted: fresh.length, duplicates, rejected, battery }
  }

  return { accept }
}

export type Ingest = ReturnType<typeof createIngest>
