// The bad-input corpus: payloads a device (broken, hostile or just odd) may send. None may crash ingest,
// none may become a reading; each is dead-lettered with the expected code. Used by the unit test
// (ingest/corpus.test.ts) and through real MQTT (test/e2e/ingest-corpus.int.test.ts).

export interface BadInput {
  name: string
  payload: Buffer
  /** Every rejection of this message carries this code. */
  code: string
  /** How many readings the message is rejected as (1 unless a batch is judged per reading). */
  rejections?: number
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v))
const text = (s: string) => Buffer.from(s, 'utf8')
const hr = { id: 'c-1', type: 'heart-rate', value: 70 }

function nested(depth: number, open: string, close: string, inner = '1'): Buffer {
  return text(open.repeat(depth) + inner + close.repeat(depth))
}

export const BAD_INPUTS: BadInput[] = [
  { name: 'empty payload', payload: Buffer.alloc(0), code: 'VW_ERR_INGEST_PAYLOAD' },
  {
    name: 'truncated JSON',
    payload: text('{"id":"c-1","type":"heart-rate","val'),
    code: 'VW_ERR_INGEST_PAYLOAD',
  },
  {
    name: 'trailing garbage',
    payload: text('{"id":"c-1","type":"heart-rate","value":70} x'),
    code: 'VW_ERR_INGEST_PAYLOAD',
  },
  {
    name: 'NaN literal',
    payload: text('{"id":"c-1","type":"heart-rate","value":NaN}'),
    code: 'VW_ERR_INGEST_PAYLOAD',
  },
  {
    name: 'Infinity literal',
    payload: text('{"id":"c-1","type":"heart-rate","value":Infinity}'),
    code: 'VW_ERR_INGEST_PAYLOAD',
  },
  {
    name: '1e400 (parses to Infinity)',
    payload: text('{"id":"c-1","type":"heart-rate","value":1e400}'),
    code: 'VW_ERR_INGEST_SCHEMA',
  },
  {
    name: '-1e400',
    payload: text('{"id":"c-1","type":"spo2","value":-1e400}'),
    code: 'VW_ERR_INGEST_SCHEMA',
  },
  { name: 'huge number value', payload: json({ ...hr, value: 1.7e308 }), code: 'VW_ERR_INGEST_IMPLAUSIBLE' },
  {
    name: 'huge negative systolic',
    payload: json({ id: 'c-1', type: 'blood-pressure', systolic: -1e300, diastolic: 80 }),
    code: 'VW_ERR_INGEST_IMPLAUSIBLE',
  },
  { name: 'huge epoch timestamp', payload: json({ ...hr, ts: 1e300 }), code: 'VW_ERR_INGEST_SCHEMA' },
  { name: 'value as string', payload: json({ ...hr, value: '70' }), code: 'VW_ERR_INGEST_SCHEMA' },
  { name: 'id as number', payload: json({ ...hr, id: 7 }), code: 'VW_ERR_INGEST_SCHEMA' },
  { name: 'ts as boolean', payload: json({ ...hr, ts: true }), code: 'VW_ERR_INGEST_SCHEMA' },
  { name: 'value as object', payload: json({ ...hr, value: { v: 70 } }), code: 'VW_ERR_INGEST_SCHEMA' },
  { name: 'null document', payload: text('null'), code: 'VW_ERR_INGEST_SCHEMA' },
  { name: 'number document', payload: text('42'), code: 'VW_ERR_INGEST_SCHEMA' },
  { name: 'string document', payload: text('"heart-rate 70"'), code: 'VW_ERR_INGEST_SCHEMA' },
  { name: 'readings not an array', payload: json({ readings: 'all of them' }), code: 'VW_ERR_INGEST_SCHEMA' },
  { name: 'empty batch', payload: json({ readings: [] }), code: 'VW_ERR_INGEST_SCHEMA' },
  { name: 'deeply nested arrays', payload: nested(30_000, '[', ']'), code: 'VW_ERR_INGEST_SCHEMA' },
  {
    name: 'deeply nested objects in a value',
    payload: text(`{"id":"c-1","type":"heart-rate","value":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`),
    code: 'VW_ERR_INGEST_SCHEMA',
  },
  { name: 'huge array document', payload: text(`[${'0,'.repeat(30_000)}0]`), code: 'VW_ERR_INGEST_SCHEMA' },
  {
    name: 'huge array in a batch',
    payload: text(`{"readings":[${'0,'.repeat(30_000)}0]}`),
    code: 'VW_ERR_INGEST_SCHEMA',
  },
  {
    name: 'batch of 501',
    payload: json({ readings: Array.from({ length: 501 }, (_, i) => ({ ...hr, id: `b-${i}` })) }),
    code: 'VW_ERR_INGEST_SCHEMA',
  },
  {
    name: 'batch of 500 that are all invalid',
    payload: json({ readings: Array.from({ length: 500 }, (_, i) => ({ ...hr, id: `i-${i}`, value: 999 })) }),
    code: 'VW_ERR_INGEST_IMPLAUSIBLE',
    rejections: 500,
  },
  {
    name: '__proto__ carrying the fields',
    payload: text('{"__proto__":{"type":"heart-rate","value":70},"id":"c-1"}'),
    code: 'VW_ERR_INGEST_SCHEMA',
  },
  {
    name: '__proto__ in a batch',
    payload: text('{"readings":[{"__proto__":{"polluted":true},"id":"c-1","type":"x"}]}'),
    code: 'VW_ERR_INGEST_SCHEMA',
  },
  {
    name: 'constructor.prototype keys',
    payload: text('{"constructor":{"prototype":{"polluted":true}},"id":"c-1","type":"spo2"}'),
    code: 'VW_ERR_INGEST_SCHEMA',
  },
  {
    name: 'non-UTF-8 bytes',
    payload: Buffer.concat([
      text('{"id":"c-1","type":"heart-rate","value":7'),
      Buffer.from([0xff, 0xfe]),
      text('}'),
    ]),
    code: 'VW_ERR_INGEST_PAYLOAD',
  },
  {
    name: 'overlong UTF-8 encoding',
    payload: Buffer.from([0x7b, 0xc0, 0xaf, 0x7d]),
    code: 'VW_ERR_INGEST_PAYLOAD',
  },
  {
    name: 'lone surrogate in the id',
    payload: text('{"id":"\\ud800","type":"heart-rate","value":70}'),
    code: 'VW_ERR_INGEST_SCHEMA',
  },
  {
    name: 'control characters in the id',
    payload: json({ ...hr, id: 'a\u0000b' }),
    code: 'VW_ERR_INGEST_SCHEMA',
  },
  {
    name: 'id of 129 characters',
    payload: json({ ...hr, id: 'x'.repeat(129) }),
    code: 'VW_ERR_INGEST_SCHEMA',
  },
  {
    name: 'a 60 KB string value',
    payload: json({ ...hr, value: 'x'.repeat(60_000) }),
    code: 'VW_ERR_INGEST_SCHEMA',
  },
  { name: 'unknown vital type', payload: json({ ...hr, type: 'mood' }), code: 'VW_ERR_INGEST_SCHEMA' },
  {
    name: 'duplicate keys, last one bad',
    payload: text('{"id":"c-1","type":"heart-rate","value":70,"value":"x"}'),
    code: 'VW_ERR_INGEST_SCHEMA',
  },
  { name: 'a unit of the wrong dimension', payload: json({ ...hr, unit: 'kg' }), code: 'VW_ERR_INGEST_UNIT' },
  {
    name: 'an impossible date',
    payload: json({ ...hr, ts: '2026-02-30T08:00:00Z' }),
    code: 'VW_ERR_INGEST_TIME',
  },
  {
    name: 'a payload over 64 KiB',
    payload: Buffer.alloc(64 * 1024 + 1, 0x20),
    code: 'VW_ERR_INGEST_PAYLOAD',
  },
]
