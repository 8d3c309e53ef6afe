import { describe, expect, it } from 'vitest'
import { decode } from '../decode.ts'
import { knownDeviceTypes, mappingFor, parseMapping, shippedMappings } from './index.ts'
import { compilePath, readPath } from './json-path.ts'

const NOW = Date.parse('2026-11-27T18:00:00Z')
const limits = { nowMs: NOW, maxFutureMs: 300_000, maxAgeMs: 30 * 86_400_000 }
const enc = (v: unknown) => Buffer.from(JSON.stringify(v))
const run = (type: string, doc: unknown) => decode(enc(doc), limits, mappingFor(type))
const example = (type: string) => structuredClone(shippedMappings().get(type)!.definition.example) as any

describe('shipped device mappings', () => {
  it('ships at least three vendor mappings, each an accepted device type', () => {
    expect(knownDeviceTypes()).toEqual(
      expect.arrayContaining([
        'generic',
        'cellular-bp-cuff',
        'scale-lb',
        'pulse-ox-batch',
        'glucometer-mmol',
      ]),
    )
  })

  it('maps every shipped example to readings that pass validation', () => {
    for (const [id, m] of shippedMappings()) {
      const items = run(id, m.definition.example)
      expect(items.length, id).toBeGreaterThan(0)
      for (const item of items) expect(item, id).toMatchObject({ ok: true })
    }
  })

  it('cellular BP cuff: nested measurements, kPa/mmHg flag, offset kept, pulse and battery', () => {
    const items = run('cellular-bp-cuff', example('cellular-bp-cuff'))
    const readings = items.map((i) => (i.ok ? i.reading : undefined))
    expect(readings[0]).toMatchObject({
      readingId: 'bp-1182',
      type: 'blood-pressure',
      effective: '2026-11-27T07:58:12+01:00',
      values: { systolic: 128, diastolic: 82 },
      pulse: 64,
      battery: 81,
    })
    // 16.8 kPa x 7.50062 = 126.01 -> 126; 10.9 kPa -> 81.76 -> 82 (mm[Hg], integer).
    expect(readings[1]).toMatchObject({ readingId: 'bp-1183', values: { systolic: 126, diastolic: 82 } })
  })

  it('scale: pounds to kg (x 0.45359237) and Unix seconds to UTC', () => {
    const doc = example('scale-lb')
    doc.data.measured_at = NOW / 1000 - 3600
    const [item] = run('scale-lb', doc)
    expect(item).toMatchObject({
      ok: true,
      reading: {
        readingId: `w-${NOW / 1000 - 3600}`,
        type: 'body-weight',
        values: { value: 83.19 },
        effective: '2026-11-27T17:00:00.000Z',
        battery: 77,
      },
    })
  })

  it('scale: a heartbeat carries no reading and is ignored; any other unknown message is rejected with the reason', () => {
    expect(run('scale-lb', { serial: 'SC-1009', type: 'heartbeat', battery_pct: 77 })).toEqual([])
    const items = run('scale-lb', { serial: 'SC-1009', type: 'factory-reset' })
    expect(items).toEqual([
      expect.objectContaining({
        ok: false,
        code: 'VW_ERR_INGEST_MAPPING',
        message: expect.stringMatching(/no template/),
      }),
    ])
  })

  it('pulse oximeter: a sample the device marks as no measurement (finger out) is skipped, not rejected', () => {
    const t = NOW - 60_000
    const samples = [
      { t, spo2: 127, pr: 511 }, // finger out: neither was measured
      { t: t + 1000, spo2: 127, pr: 72 }, // pulse found before saturation
      { t: t + 2000, spo2: 95, pr: 70 },
    ]
    const items = run('pulse-ox-batch', { upload: 'u9', samples })
    expect(items.map((i) => (i.ok ? [i.reading.type, i.reading.values.value] : i))).toEqual([
      ['spo2', 95],
      ['heart-rate', 72],
      ['heart-rate', 70],
    ])
    // A message of nothing but finger-out samples is acknowledged with nothing stored, and not
    // reported to the device as an error; 128 % is still implausible.
    expect(run('pulse-ox-batch', { upload: 'u10', samples: [{ t, spo2: 127, pr: 511 }] })).toEqual([])
    expect(run('pulse-ox-batch', { upload: 'u11', samples: [{ t, spo2: 128, pr: 70 }] })[0]).toMatchObject({
      ok: false,
      code: 'VW_ERR_INGEST_IMPLAUSIBLE',
    })
  })

  it('a declared "no measurement" on a cuff\'s pulse leaves out only the pulse', () => {
    const { map } = parseMapping(
      JSON.stringify({
        id: 'cuff-x',
        description: 'test',
        templates: [
          {
            name: 'bp',
            type: 'blood-pressure',
            fields: {
              id: '$.n',
              systolic: { path: '$.s', missing: [0] },
              diastolic: '$.d',
              pulse: { path: '$.p', missing: [0, 'none'] },
              unit: { const: 'mm[Hg]' },
            },
          },
        ],
      }),
      'cuff-x.json',
    )
    const items = decode(enc({ n: 'b1', s: 130, d: 85, p: 'none' }), limits, map)
    expect(items).toEqual([
      expect.objectContaining({
        ok: true,
        reading: expect.not.objectContaining({ pulse: expect.anything() }),
      }),
    ])
    expect(decode(enc({ n: 'b2', s: 0, d: 0, p: 0 }), limits, map)).toEqual([])
  })

  it('scale: a measurement time in epoch seconds with a fraction makes a reading id too', () => {
    const t = (NOW - 60_000) / 1000 + 0.5
    const [item] = run('scale-lb', {
      serial: 'SC-1',
      type: 'weight',
      data: { weight_lb: 183.4, measured_at: t },
    })
    expect(item).toMatchObject({ ok: true, reading: { readingId: `w-${t}`, effectiveMs: t * 1000 } })
  })

  it('pulse oximeter: a batch of samples becomes one SpO2 and one heart rate per sample', () => {
    const t0 = NOW - 600_000
    const items = run('pulse-ox-batch', {
      sn: 'OX-77',
      upload: 'u9',
      samples: [
        { t: t0, spo2: 97, pr: 68 },
        { t: t0 + 60_000, spo2: 0.95, pr: 71 },
      ],
    })
    expect(items.map((i) => i.ok && [i.reading.readingId, i.reading.type, i.reading.values.value])).toEqual([
      [`u9-${t0}-spo2`, 'spo2', 97],
      // "%" was declared, so 0.95 is 0.95 %: implausible, never silently x 100.
      false,
      [`u9-${t0}-pr`, 'heart-rate', 68],
      [`u9-${t0 + 60_000}-pr`, 'heart-rate', 71],
    ])
    expect(items[1]).toMatchObject({
      ok: false,
      code: 'VW_ERR_INGEST_IMPLAUSIBLE',
      readingId: `u9-${t0 + 60_000}-spo2`,
    })
  })

  it('pulse oximeter: more samples than one message may carry is rejected as a whole', () => {
    const samples = Array.from({ length: 251 }, (_, i) => ({ t: NOW - i * 1000, spo2: 97, pr: 70 }))
    expect(run('pulse-ox-batch', { upload: 'u', samples })).toEqual([
      expect.objectContaining({
        ok: false,
        code: 'VW_ERR_INGEST_MAPPING',
        message: expect.stringMatching(/500/),
      }),
    ])
  })

  it('glucometer: mmol/L converted (x 18.016) and LO kept as out of range', () => {
    const items = run('glucometer-mmol', example('glucometer-mmol'))
    expect(items[0]).toMatchObject({ ok: true, reading: { readingId: 'g-88', values: { value: 104 } } })
    expect(items[1]).toMatchObject({ ok: true, reading: { readingId: 'g-89', outOfRange: 'L', values: {} } })
  })

  it.each([
    [
      'a missing systolic',
      { measurements: [{ seq: 1, takenAt: '2026-11-27T17:00:00Z', dia: 80, unitFlag: 0 }] },
      'VW_ERR_INGEST_SCHEMA',
    ],
    [
      'an unknown unit flag',
      { measurements: [{ seq: 2, takenAt: '2026-11-27T17:00:00Z', sys: 120, dia: 80, unitFlag: 7 }] },
      'VW_ERR_INGEST_UNIT',
    ],
    [
      'a string where a number belongs',
      { measurements: [{ seq: 3, takenAt: '2026-11-27T17:00:00Z', sys: '120', dia: 80 }] },
      'VW_ERR_INGEST_SCHEMA',
    ],
  ])('cellular BP cuff: rejects %s per reading, naming the reading', (_name, doc, code) => {
    const [item] = run('cellular-bp-cuff', doc)
    expect(item).toMatchObject({ ok: false, code })
    expect((item as { readingId?: string }).readingId).toMatch(/^bp-\d$/)
  })

  it('never reads through __proto__ or constructor keys of a payload', () => {
    const doc = JSON.parse('{"__proto__":{"type":"weight"},"type":"x","constructor":{"name":"y"}}')
    expect(run('scale-lb', doc)[0]).toMatchObject({ ok: false, code: 'VW_ERR_INGEST_MAPPING' })
    const p = compilePath('$.constructor.name')
    expect(p.ok && readPath(p.path, {}, {})).toBeUndefined()
    expect(({} as any).type).toBeUndefined()
  })
})

describe('mapping definitions', () => {
  const valid = {
    id: 'x-1',
    description: 'test',
    templates: [{ name: 't', type: 'heart-rate', fields: { id: '$.n', value: '$.hr' } }],
  }
  const withTemplate = (t: object) =>
    JSON.stringify({ ...valid, templates: [{ ...valid.templates[0], ...t }] })

  it('accepts a minimal mapping', () => {
    expect(parseMapping(JSON.stringify(valid), 'x.json').map({ n: 'a', hr: 70 })).toEqual({
      ok: true,
      readings: [{ type: 'heart-rate', id: 'a', value: 70 }],
    })
  })

  it.each([
    [
      'a path without $ or @',
      withTemplate({ fields: { id: 'n', value: '$.hr' } }),
      /must start with \$ or @/,
    ],
    [
      'a wildcard in a field',
      withTemplate({ fields: { id: '$.n', value: '$.hr[*]' } }),
      /only allowed in forEach/,
    ],
    ['forEach without [*]', withTemplate({ forEach: '$.samples' }), /forEach must be/],
    ['a value-less template', withTemplate({ fields: { id: '$.n' } }), /need fields.value/],
    [
      'systolic on a heart rate',
      withTemplate({ fields: { id: '$.n', value: '$.v', systolic: '$.s' } }),
      /blood-pressure only/,
    ],
    ['an unknown vital type', withTemplate({ type: 'mood' }), /type/],
    ['an unknown key (code smuggled in)', withTemplate({ script: 'process.exit()' }), /script/],
    [
      'a path that is too deep',
      withTemplate({ fields: { id: '$.n', value: `$${'.a'.repeat(13)}` } }),
      /too deep/,
    ],
    ['invalid JSON', '{"id":', /not valid JSON/],
  ])('rejects %s with a message naming the problem', (_name, json, message) => {
    expect(() => parseMapping(json, 'bad.json')).toThrow(message)
  })

  it('compiles the path subset and nothing more', () => {
    expect(compilePath("$.a['b c'][2].d")).toMatchObject({
      ok: true,
      path: { segments: ['a', 'b c', 2, 'd'] },
    })
    for (const bad of ['$..a', '$.a[?(@.b)]', '$.a[(1+1)]', '$.a.*', "$['a"])
      expect(compilePath(bad).ok, bad).toBe(false)
  })
})
