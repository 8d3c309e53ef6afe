import { describe, expect, it } from 'vitest'
import { decode } from './decode.ts'

const NOW = Date.parse('2026-11-27T10:00:00Z')
const limits = { nowMs: NOW, maxFutureMs: 300_000, maxAgeMs: 30 * 86_400_000 }
const enc = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v))

describe('decode', () => {
  it.each([
    ['heart-rate in bpm', { id: 'a', type: 'heart-rate', value: 72, unit: 'bpm' }, { value: 72 }],
    ['heart-rate without unit', { id: 'a', type: 'heart-rate', value: 71.6 }, { value: 72 }],
    ['temperature in degF', { id: 'a', type: 'body-temperature', value: 100.4, unit: 'degF' }, { value: 38 }],
    ['temperature in °F', { id: 'a', type: 'body-temperature', value: 98.6, unit: '°F' }, { value: 37 }],
    ['weight in lb', { id: 'a', type: 'body-weight', value: 180, unit: 'lb' }, { value: 81.65 }],
    ['glucose in mmol/L', { id: 'a', type: 'blood-glucose', value: 5.5, unit: 'mmol/L' }, { value: 99 }],
    ['spo2 as a fraction', { id: 'a', type: 'spo2', value: 0.97 }, { value: 97 }],
    [
      'bp in kPa',
      { id: 'a', type: 'blood-pressure', systolic: 16, diastolic: 10.7, unit: 'kPa' },
      { systolic: 120, diastolic: 80 },
    ],
  ])('normalizes %s', (_name, reading, values) => {
    const [item] = decode(enc(reading), limits)
    expect(item.ok).toBe(true)
    if (item.ok) expect(item.reading.values).toEqual(values)
  })

  it.each([
    [
      'glucose without unit (mg/dL vs mmol/L must never be guessed)',
      { id: 'a', type: 'blood-glucose', value: 5.5 },
      'VW_ERR_INGEST_UNIT',
    ],
    [
      'glucose in mg/dL that is really mmol/L',
      { id: 'a', type: 'blood-glucose', value: 5.5, unit: 'mg/dL' },
      'VW_ERR_INGEST_IMPLAUSIBLE',
    ],
    ['kg for a heart rate', { id: 'a', type: 'heart-rate', value: 70, unit: 'kg' }, 'VW_ERR_INGEST_UNIT'],
    ['heart rate of 400', { id: 'a', type: 'heart-rate', value: 400 }, 'VW_ERR_INGEST_IMPLAUSIBLE'],
    [
      'systolic below diastolic',
      { id: 'a', type: 'blood-pressure', systolic: 70, diastolic: 90 },
      'VW_ERR_INGEST_IMPLAUSIBLE',
    ],
    [
      'a time 10 minutes ahead',
      { id: 'a', type: 'heart-rate', value: 70, ts: '2026-11-27T10:10:00Z' },
      'VW_ERR_INGEST_TIME',
    ],
    [
      'a time 31 days old',
      { id: 'a', type: 'heart-rate', value: 70, ts: '2026-10-27T09:00:00Z' },
      'VW_ERR_INGEST_TIME',
    ],
    [
      'an id ending in ":pulse" (the suffix of a cuff\'s pulse reading)',
      { id: 'hr9:pulse', type: 'heart-rate', value: 70 },
      'VW_ERR_INGEST_SCHEMA',
    ],
    [
      'a time without offset',
      { id: 'a', type: 'heart-rate', value: 70, ts: '2026-11-27T09:00:00' },
      'VW_ERR_INGEST_SCHEMA',
    ],
    [
      'February 30th',
      { id: 'a', type: 'heart-rate', value: 70, ts: '2026-02-30T09:00:00Z' },
      'VW_ERR_INGEST_TIME',
    ],
    ['an unknown type', { id: 'a', type: 'mood', value: 3 }, 'VW_ERR_INGEST_SCHEMA'],
    ['a string value', { id: 'a', type: 'heart-rate', value: '70' }, 'VW_ERR_INGEST_SCHEMA'],
    ['a missing id', { type: 'heart-rate', value: 70 }, 'VW_ERR_INGEST_SCHEMA'],
    // Plausible ranges are checked before rounding: a value outside them is not rounded into them.
    [
      'SpO2 49.5 % (below 50-100, though it rounds to 50)',
      { id: 'a', type: 'spo2', value: 49.5, unit: '%' },
      'VW_ERR_INGEST_IMPLAUSIBLE',
    ],
    ['a heart rate of 300.4', { id: 'a', type: 'heart-rate', value: 300.4 }, 'VW_ERR_INGEST_IMPLAUSIBLE'],
    ['-0.4 steps', { id: 'a', type: 'steps', value: -0.4 }, 'VW_ERR_INGEST_IMPLAUSIBLE'],
    // A meter's LO has no value, but a unit of another dimension is still refused, never guessed.
    ['glucose LO in kg', { id: 'a', type: 'blood-glucose', value: 'LO', unit: 'kg' }, 'VW_ERR_INGEST_UNIT'],
  ])('rejects %s', (_name, reading, code) => {
    const [item] = decode(enc(reading), limits)
    expect(item).toMatchObject({ ok: false, code })
  })

  it('keeps a reading whose optional part is bad, without that part, and says which part', () => {
    const [bp] = decode(
      enc({ id: 'a', type: 'blood-pressure', systolic: 142, diastolic: 91, pulse: 300.4, battery: 150 }),
      limits,
    )
    expect(bp).toMatchObject({ ok: true, reading: { values: { systolic: 142, diastolic: 91 } } })
    if (!bp.ok) return
    expect(bp.reading.pulse).toBeUndefined()
    expect(bp.reading.battery).toBeUndefined()
    expect(bp.reading.dropped).toEqual([
      {
        code: 'VW_ERR_INGEST_IMPLAUSIBLE',
        message: 'battery 150 % is outside 0-100 %; the reading is stored without it',
      },
      {
        code: 'VW_ERR_INGEST_IMPLAUSIBLE',
        message:
          'pulse 300.4 /min is outside the plausible range 20-300 /min; the blood pressure is stored without it',
      },
    ])
    // null is "not measured", as many devices write it.
    const [nulls] = decode(
      enc({ id: 'b', type: 'blood-pressure', systolic: 120, diastolic: 80, pulse: null, battery: null }),
      limits,
    )
    expect(nulls).toMatchObject({ ok: true, reading: { values: { systolic: 120, diastolic: 80 } } })
    expect(nulls.ok && nulls.reading.dropped).toBeUndefined()
  })

  it('keeps a blood pressure whose pulse or battery is not a number ("88", "87%"), without that part', () => {
    // Both used to cost the whole reading (a schema rejection), here a hypertensive crisis.
    const [bp] = decode(
      enc({ id: 'c', type: 'blood-pressure', systolic: 190, diastolic: 125, pulse: '88', battery: '87%' }),
      limits,
    )
    expect(bp).toMatchObject({ ok: true, reading: { values: { systolic: 190, diastolic: 125 } } })
    if (!bp.ok) return
    expect(bp.reading.pulse).toBeUndefined()
    expect(bp.reading.battery).toBeUndefined()
    expect(bp.reading.dropped).toEqual([
      {
        code: 'VW_ERR_INGEST_SCHEMA',
        message: 'battery "87%" is not a number (0-100); the reading is stored without it',
      },
      {
        code: 'VW_ERR_INGEST_SCHEMA',
        message: 'pulse "88" is not a number (a pulse rate in /min); the blood pressure is stored without it',
      },
    ])
  })

  it('refuses a reading with a list of readings beside it, instead of keeping the list and dropping it', () => {
    const items = decode(
      enc({
        id: 'b-6',
        type: 'heart-rate',
        value: 75,
        readings: [{ id: 'b-7', type: 'heart-rate', value: 76 }],
      }),
      limits,
    )
    expect(items).toEqual([
      {
        ok: false,
        readingId: 'b-6',
        code: 'VW_ERR_INGEST_SCHEMA',
        message: expect.stringMatching(
          /^a batch is \{ "readings": \[\.\.\.\] \} and nothing else; found id, type, value beside it/,
        ),
      },
    ])
  })

  it('keeps an SpO2 reading that carries a pulse, and says the pulse was not stored (it is read only with a blood pressure)', () => {
    const [item] = decode(enc({ id: 'a', type: 'spo2', value: 96, unit: '%', pulse: 72 }), limits)
    expect(item).toMatchObject({ ok: true, reading: { values: { value: 96 } } })
    expect(item.ok && item.reading.dropped).toEqual([
      {
        code: 'VW_ERR_INGEST_SCHEMA',
        message:
          'pulse is read only with a blood-pressure reading and was not stored: send the pulse rate as its own heart-rate reading',
      },
    ])
    // Any other extra field (firmware, rssi) is ignored without a word.
    const [quiet] = decode(enc({ id: 'b', type: 'spo2', value: 96, unit: '%', rssi: -70, fw: '1.2' }), limits)
    expect(quiet.ok && quiet.reading.dropped).toBeUndefined()
  })

  it('accepts the plausible limits themselves, and a LO in a glucose unit', () => {
    for (const r of [
      { id: 'a', type: 'spo2', value: 50, unit: '%' },
      { id: 'b', type: 'heart-rate', value: 300 },
      { id: 'c', type: 'steps', value: 0 },
      { id: 'd', type: 'blood-glucose', value: 'LO', unit: 'mmol/L' },
      { id: 'e', type: 'blood-glucose', value: 'HI' },
    ])
      expect(decode(enc(r), limits)[0], r.id).toMatchObject({ ok: true })
  })

  it('quotes an implausible value as the device sent it, and as converted when the unit differs', () => {
    const message = (r: unknown) => {
      const [item] = decode(enc(r), limits)
      return item.ok ? '' : item.message
    }
    expect(message({ id: 'a', type: 'spo2', value: 0.97, unit: '%' })).toBe(
      'spo2 0.97 % is outside the plausible range 50-100 %',
    )
    expect(message({ id: 'a', type: 'blood-glucose', value: 0.4, unit: 'mmol/L' })).toBe(
      'blood-glucose 0.4 mmol/L (7.21 mg/dL) is outside the plausible range 10-900 mg/dL',
    )
    expect(message({ id: 'a', type: 'heart-rate', value: 400 })).toBe(
      'heart-rate 400 /min is outside the plausible range 20-300 /min',
    )
  })

  it('says what was expected, not "Invalid input", and names a batch reading without an id by its place', () => {
    const message = (doc: string) => decode(enc(doc), limits).map((i) => (i.ok ? 'ok' : i.message))
    expect(message('{"id":"a","type":"heart-rate","value":70,"ts":null}')).toEqual([
      'ts: expected an ISO 8601 time with offset (e.g. 2026-11-24T08:15:00Z) or whole epoch milliseconds',
    ])
    for (const value of ['"72"', '1e400'])
      expect(message(`{"id":"a","type":"heart-rate","value":${value}}`)).toEqual([
        'value: expected a finite number (not text such as "72"), or LO/HI from a glucometer',
      ])
    expect(
      message('{"readings":[{"id":"a","type":"heart-rate","value":70},{"type":"spo2","value":97}]}'),
    ).toEqual(['ok', expect.stringMatching(/^readings\[1\]: id: /)])
  })

  it('keeps the offset the device sent and turns epoch milliseconds into UTC', () => {
    const [a] = decode(
      enc({ id: 'a', type: 'heart-rate', value: 70, ts: '2026-11-27T11:15:00+02:00' }),
      limits,
    )
    const [b] = decode(enc({ id: 'b', type: 'heart-rate', value: 70, ts: NOW - 60_000 }), limits)
    expect(a.ok && a.reading.effective).toBe('2026-11-27T11:15:00+02:00')
    expect(a.ok && a.reading.effectiveMs).toBe(Date.parse('2026-11-27T09:15:00Z'))
    expect(b.ok && b.reading.effective).toBe('2026-11-27T09:59:00.000Z')
  })

  it('says a time in seconds since the epoch is seconds, and what to send instead', () => {
    const s = Math.floor((NOW - 60_000) / 1000)
    const [a] = decode(enc({ id: 'a', type: 'heart-rate', value: 70, ts: s }), limits)
    expect(a).toMatchObject({
      ok: false,
      code: 'VW_ERR_INGEST_TIME',
      message: `ts ${s} looks like seconds since the epoch; send milliseconds (${s * 1000}) or an ISO 8601 time with offset`,
    })
    // A small number that is not a time in seconds within the window keeps the plain message.
    const [b] = decode(enc({ id: 'b', type: 'heart-rate', value: 70, ts: 12345 }), limits)
    expect(b).toMatchObject({ ok: false, message: 'ts is older than the acceptance window of 30 days' })
  })

  it('uses the receive time and flags it when the device sends no time', () => {
    const [a] = decode(enc({ id: 'a', type: 'heart-rate', value: 70 }), limits)
    expect(a.ok && a.reading.effectiveMs).toBe(NOW)
    expect(a.ok && a.reading.flags).toContain('time-from-receipt')
  })

  it('judges each reading of a batch on its own', () => {
    const items = decode(
      enc({
        readings: [
          { id: 'a', type: 'heart-rate', value: 70 },
          { id: 'b', type: 'heart-rate', value: 999 },
        ],
      }),
      limits,
    )
    expect(items.map((i) => i.ok)).toEqual([true, false])
    expect(items[1]).toMatchObject({ readingId: 'b', code: 'VW_ERR_INGEST_IMPLAUSIBLE' })
  })

  it.each([
    ['empty', Buffer.alloc(0)],
    ['truncated JSON', enc('{"id":"a","type":"heart-')],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ['too large', Buffer.alloc(70_000, 0x20)],
  ])('rejects a payload that is %s', (_name, payload) => {
    expect(decode(payload, limits)).toEqual([
      expect.objectContaining({ ok: false, code: 'VW_ERR_INGEST_PAYLOAD' }),
    ])
  })
})
