import type { EventBus } from '../shared/events.ts'
import type { StoredObservation } from '../shared/fhir.ts'
import type { Logger } from '../shared/logger.ts'
import type { Metrics } from '../shared/metrics.ts'
import type { DeadLetter, Journal } from '../storage/ports.ts'
import { type DecodeItem, decode, type PayloadMapping, type Rejection } from './decode.ts'
import { readingIdOfKey, toObservations } from './to-observation.ts'

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
  /**
   * Wait for the local commit before `accept` resolves (and so before the PUBACK). Always true in the
   * product; false exists only so bench/ingest.ts can measure what durability costs.
   */
  durable?: boolean
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
  const durable = options.durable ?? true
  // Label sets resolved once: the hot path increments without hashing a labels object per message.
  const acceptedCount = deps.metrics.readings.labels({ outcome: 'accepted', code: '' })
  const duplicateCount = deps.metrics.readings.labels({ outcome: 'duplicate', code: '' })

  async function accept(deviceId: string, device: DeviceBinding, payload: Uint8Array): Promise<AcceptResult> {
    const receivedMs = now()
    const limits = { nowMs: receivedMs, maxFutureMs: options.maxFutureMs, maxAgeMs: options.maxAgeMs }
    const mapping = device.type === 'generic' ? undefined : deps.mappingFor?.(device.type)
    let items: DecodeItem[]
    try {
      // A device whose type names no mapping must not fall back to the canonical format: its vendor
      // payload could be misread. Dead-letter it with the reason instead.
      items =
        device.type !== 'generic' && !mapping
          ? [
              {
                ok: false,
                code: 'VW_ERR_INGEST_MAPPING',
                message: `device type ${device.type} has no mapping`,
              },
            ]
          : decode(payload, limits, mapping)
    } catch (e) {
      // decode() returns results; this guards against a bug there ever costing a device its connection.
      log.error({ deviceId, err: e }, 'decoder failed unexpectedly')
      items = [{ ok: false, code: 'VW_ERR_INTERNAL', message: 'reading could not be decoded' }]
    }
    const accepted: StoredObservation[] = []
    const rejected: Rejection[] = []
    let battery: number | undefined
    for (const item of items) {
      if (item.ok) {
        accepted.push(...toObservations(item.reading, { deviceId, patientId: device.patientId, receivedMs }))
        if (item.reading.battery !== undefined) battery = item.reading.battery
        // A refused part (an implausible pulse): the reading is stored, the part dead-lettered and reported.
        for (const d of item.reading.dropped ?? []) rejected.push({ readingId: item.reading.readingId, ...d })
      } else {
        rejected.push({ readingId: item.readingId, code: item.code, message: item.message })
      }
    }
    // The message is kept once (on the first dead letter it causes; the others share deviceId and
    // receivedMs) so it can be repaired and replayed without storing a 64 KiB batch 500 times. One over
    // the 64 KiB payload limit too: it was acknowledged, so it is kept (the broker's packet limit bounds it).
    const letters = (rs: Rejection[], keepPayload: boolean): DeadLetter[] =>
      rs.map((r, i) => ({
        deviceId,
        readingId: r.readingId ?? null,
        code: r.code,
        reason: r.message,
        payload: keepPayload && i === 0 ? payload : null,
        receivedMs,
      }))
    const deadLetters = letters(rejected, true)
    const commit = deps.journal.commit({ accepted, deadLetters })
    if (!durable) {
      // Bench-only comparison: answer before the commit; count what was submitted as fresh.
      commit.then(
        ({ fresh }) => publish(fresh),
        (err) => log.error({ err, deviceId }, 'commit failed'),
      )
      count(accepted.length, 0, rejected, deviceId)
      return { accepted: accepted.length, duplicates: 0, rejected, battery }
    }
    const { fresh, conflicts } = await commit
    if (conflicts.length) {
      // Another reading under an id already stored: kept aside with the reason and the message, and the
      // device told, before the PUBACK. (Should the process stop between the two commits, the device
      // resends, the conflict is found again, and this commit follows.)
      // One per reading id: a cuff's reading and its pulse conflict together.
      const byId = new Map<string, StoredObservation>()
      for (const o of conflicts) {
        const id = readingIdOfKey(o.key, deviceId)
        if (!byId.has(id)) byId.set(id, o)
      }
      const reused = [...byId].map(([id, o]) => idReused(id, o))
      await deps.journal.commit({ accepted: [], deadLetters: letters(reused, deadLetters.length === 0) })
      rejected.push(...reused)
    }
    deps.metrics.commitSeconds.observe((now() - receivedMs) / 1000)
    const duplicates = accepted.length - fresh.length - conflicts.length
    count(fresh.length, duplicates, rejected, deviceId)
    publish(fresh)
    return { accepted: fresh.length, duplicates, rejected, battery }
  }

  /** The rejection of a reading whose id is already stored for a different reading. */
  function idReused(readingId: string, o: StoredObservation): Rejection {
    return {
      readingId,
      code: 'VW_ERR_INGEST_ID_REUSED',
      message: `reading id ${JSON.stringify(readingId)} was already used for a different reading; this ${o.type} reading at ${o.effective} is kept aside, not stored: give every reading its own id`,
    }
  }

  function count(fresh: number, duplicates: number, rejected: Rejection[], deviceId: string) {
    if (fresh) acceptedCount.inc(fresh)
    if (duplicates) duplicateCount.inc(duplicates)
    for (const r of rejected) {
      deps.metrics.readings.inc({ outcome: 'rejected', code: r.code })
      // Not the reason: it quotes the values ("heart-rate 900 /min is outside ..."), and a device is a
      // patient. `vitalwire dead-letters list` shows it to whoever may see it.
      log.warn({ deviceId, readingId: r.readingId, code: r.code }, 'reading rejected')
    }
  }

  function publish(fresh: StoredObservation[]) {
    if (fresh.length === 0) return
    try {
      deps.events.emit('observations', fresh)
    } catch (e) {
      log.error({ err: e }, 'observation listener failed')
    }
  }

  /**
   * Commit a whole message to the dead-letter store without decoding it (e.g. over the device's rate
   * limit), so acknowledging it loses nothing: it can be inspected and replayed later.
   */
  async function reject(deviceId: string, payload: Uint8Array, rejection: Rejection): Promise<void> {
    const receivedMs = now()
    await deps.journal.commit({
      accepted: [],
      deadLetters: [
        { deviceId, readingId: null, code: rejection.code, reason: rejection.message, payload, receivedMs },
      ],
    })
    count(0, 0, [rejection], deviceId)
  }

  return { accept, reject }
}

export type Ingest = ReturnType<typeof createIngest>
