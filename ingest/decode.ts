import type { ErrorCode } from '../shared/errors.ts'
import { type Normalized, type NormalizeLimits, normalize } from './normalize.ts'
import { batchSchema, readingSchema } from './reading-schema.ts'

// Pure: raw MQTT payload bytes -> one result per reading. Never throws: bad bytes become rejections.

export const MAX_PAYLOAD_BYTES = 64 * 1024

export interface Rejection {
  readingId?: string
  code: ErrorCode
  message: string
}

export type DecodeItem = { ok: true; reading: Normalized } | ({ ok: false } & Rejection)

/** Turns a vendor document into canonical reading objects (see ingest/mappings). */
export type PayloadMapping = (
  doc: unknown,
) => { ok: true; readings: unknown[] } | { ok: false; message: string }

const utf8 = new TextDecoder('utf-8', { fatal: true })

function zodMessage(error: { issues: { path: PropertyKey[]; message: string }[] }): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length ? i.path.join('.') : 'reading'}: ${i.message}`)
    .join('; ')
}

function readingIdOf(raw: unknown): string | undefined {
  if (raw && typeof raw === 'object' && typeof (raw as any).id === 'string') {
    const id = (raw as { id: string }).id
    return id.length <= 128 ? id : undefined
  }
  return undefined
}

export function parsePayload(payload: Uint8Array): { ok: true; doc: unknown } | ({ ok: false } & Rejection) {
  if (payload.byteLength === 0) return { ok: false, code: 'VW_ERR_INGEST_PAYLOAD', message: 'empty payload' }
  if (payload.byteLength > MAX_PAYLOAD_BYTES) {
    return {
      ok: false,
      code: 'VW_ERR_INGEST_PAYLOAD',
      message: `payload of ${payload.byteLength} bytes exceeds ${MAX_PAYLOAD_BYTES}`,
    }
  }
  let text: string
  try {
    text = utf8.decode(payload)
  } catch {
    return { ok: false, code: 'VW_ERR_INGEST_PAYLOAD', message: 'payload is not valid UTF-8' }
  }
  try {
    return { ok: true, doc: JSON.parse(text) }
  } catch (e) {
    return {
      ok: false,
      code: 'VW_ERR_INGEST_PAYLOAD',
      message: `payload is not valid JSON: ${(e as Error).message.slice(0, 120)}`,
    }
  }
}

export function decode(payload: Uint8Array, limits: NormalizeLimits, mapping?: PayloadMapping): DecodeItem[] {
  const parsed = parsePayload(payload)
  if (!parsed.ok) return [parsed]
  let items: unknown[]
  if (mapping) {
    const mapped = mapping(parsed.doc)
    if (!mapped.ok) return [{ ok: false, code: 'VW_ERR_INGEST_MAPPING', message: mapped.message }]
    items = mapped.readings
  } else if (parsed.doc && typeof parsed.doc === 'object' && 'readings' in parsed.doc) {
    // A reading's fields beside the list would be dropped without a word: say so instead.
    const beside = Object.keys(parsed.doc).filter((k) => k !== 'readings')
    if (beside.length)
      return [
        {
          ok: false,
          readingId: readingIdOf(parsed.doc),
          code: 'VW_ERR_INGEST_SCHEMA',
          message: `a batch is { "readings": [...] } and nothing else; found ${beside.slice(0, 5).join(', ')} beside it: send that reading as one of the readings`,
        },
      ]
    const batch = batchSchema.safeParse(parsed.doc)
    if (!batch.success) return [{ ok: false, code: 'VW_ERR_INGEST_SCHEMA', message: zodMessage(batch.error) }]
    items = batch.data.readings
  } else {
    items = [parsed.doc]
  }
  const batch = items.length > 1
  return items.map((raw, i): DecodeItem => {
    const r = readingSchema.safeParse(raw)
    if (!r.success) {
      const readingId = readingIdOf(raw)
      // Without an id of its own, a batch's reading is named by its place in the batch.
      const where = batch && readingId === undefined ? `readings[${i}]: ` : ''
      return { ok: false, readingId, code: 'VW_ERR_INGEST_SCHEMA', message: `${where}${zodMessage(r.error)}` }
    }
    const n = normalize(r.data, limits)
    return n.ok ? n : { ok: false, readingId: r.data.id, code: n.code, message: n.message }
  })
}
