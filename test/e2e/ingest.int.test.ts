import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import type { VitalwireEvents } from '../../shared/events.ts'
import { runCli } from '../helpers/cli.ts'
import { type Harness, nextMessage, startHarness, tempDir } from '../helpers/harness.ts'

// Ingest end to end over real TLS MQTT: late and out-of-order readings, vendor mappings selected by the
// device type, and idempotency across a restart.

const TOPIC = (id: string) => `rpm/v1/devices/${id}/readings`

function query<T>(h: Harness, sql: string, ...params: (string | number)[]): T[] {
  const db = new DatabaseSync(path.join(h.dataDir, 'vitalwire.db'), { readOnly: true })
  try {
    return db.prepare(sql).all(...params) as T[]
  } finally {
    db.close()
  }
}

async function eventuallyTrue(check: () => boolean, timeoutMs = 5000) {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

function on<K extends keyof VitalwireEvents>(h: Harness, event: K) {
  return (fn: (...a: VitalwireEvents[K]) => void) => {
    h.running.events.on(event, fn as any)
    return () => void h.running.events.off(event, fn as any)
  }
}

describe('ingest end to end', () => {
  const open: Harness[] = []
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close()
  })
  const start = async (dataDir?: string) => {
    const h = await startHarness({ dataDir })
    open.push(h)
    return h
  }

  it('stores late and out-of-order readings in their place in time, never dropping them', async () => {
    const h = await start()
    await h.enrollPatient('p1')
    const device = await h.connectDevice('hr-1', await h.enrollDevice('hr-1', 'p1'))
    const now = Date.now()
    const H = 3_600_000
    // Arrival order: 1 h ago, 5 days ago (buffered while offline), 2 h ago, 29 days ago, then 31 days ago.
    const sent = [
      ['a', now - H],
      ['b', now - 5 * 24 * H],
      ['c', now - 2 * H],
      ['d', now - 29 * 24 * H],
      ['e', now - 31 * 24 * H],
    ] as const
    for (const [id, ts] of sent)
      await device.publishAsync(TOPIC('hr-1'), JSON.stringify({ id, type: 'heart-rate', value: 70, ts }), {
        qos: 1,
      })
    const stored = query<{ key: string; effective_ms: number }>(
      h,
      'SELECT key, effective_ms FROM readings ORDER BY effective_ms',
    )
    expect(stored.map((r) => r.key)).toEqual(['hr-1:d', 'hr-1:b', 'hr-1:c', 'hr-1:a'])
    expect(stored.map((r) => r.effective_ms)).toEqual([sent[3][1], sent[1][1], sent[2][1], sent[0][1]])
    // The newest measurement stays the latest even though older ones arrived after it.
    expect(query<{ key: string }>(h, 'SELECT key FROM latest_readings')).toEqual([{ key: 'hr-1:a' }])
    expect(query<{ code: string }>(h, 'SELECT code FROM dead_letters')).toEqual([
      { code: 'VW_ERR_INGEST_TIME' },
    ])

    // Within one message (one group commit) too: the newest of the batch becomes the latest.
    const batch = [
      { id: 'f', type: 'heart-rate', value: 71, ts: now - 60_000 },
      { id: 'g', type: 'heart-rate', value: 72, ts: now - 3 * H },
    ]
    await device.publishAsync(TOPIC('hr-1'), JSON.stringify({ readings: batch }), { qos: 1 })
    expect(query<{ key: string }>(h, 'SELECT key FROM latest_readings')).toEqual([{ key: 'hr-1:f' }])
    expect(query(h, 'SELECT key FROM readings')).toHaveLength(6)

    const cookie = await h.login('admin@example.org', await h.addUser('admin@example.org', 'admin'))
    const bundle = await (
      await fetch(`${h.httpUrl}/fhir/r4/Observation?patient=p1&_sort=date`, { headers: { cookie } })
    ).json()
    expect(bundle.entry.map((e: any) => e.resource.identifier[0].value)).toEqual([
      'hr-1:d',
      'hr-1:b',
      'hr-1:g',
      'hr-1:c',
      'hr-1:a',
      'hr-1:f',
    ])
  })

  it('reads a vendor payload through the mapping its device type names', async () => {
    const h = await start()
    await h.enrollPatient('p1')
    const ox = await h.connectDevice('ox-1', await h.enrollDevice('ox-1', 'p1', 'secret', 'pulse-ox-batch'))
    const t = Date.now() - 60_000
    await ox.publishAsync(
      TOPIC('ox-1'),
      JSON.stringify({ sn: 'OX-77', upload: 'u1', samples: [{ t, spo2: 96, pr: 72 }] }),
      { qos: 1 },
    )
    const rows = query<{ key: string; type: string; vals: string }>(
      h,
      'SELECT key, type, vals FROM readings ORDER BY key',
    )
    expect(rows).toEqual([
      { key: `ox-1:u1-${t}-pr`, type: 'heart-rate', vals: '{"value":72}' },
      { key: `ox-1:u1-${t}-spo2`, type: 'spo2', vals: '{"value":96}' },
    ])
    // The same canonical payload from this device is not silently read as canonical.
    await ox.publishAsync(TOPIC('ox-1'), JSON.stringify({ id: 'x', type: 'spo2', value: 97 }), { qos: 1 })
    expect(query<{ code: string }>(h, 'SELECT code FROM dead_letters')).toEqual([
      { code: 'VW_ERR_INGEST_MAPPING' },
    ])
  })

  it('refuses to enroll a device through the API with an unknown mapping, listing the known ones', async () => {
    const h = await start()
    await h.enrollPatient('p1')
    const cookie = await h.login('admin@example.org', await h.addUser('admin@example.org', 'admin'))
    const post = (type: string) =>
      fetch(`${h.httpUrl}/api/devices`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ id: `dev-${type}`, patientId: 'p1', type }),
      })
    const bad = await post('acme-cuff')
    expect(bad.status).toBe(400)
    const { error } = await bad.json()
    expect(error.code).toBe('VW_ERR_VALIDATION')
    expect(error.message).toContain('cellular-bp-cuff, glucometer-mmol, pulse-ox-batch, scale-lb')
    expect((await post('scale-lb')).status).toBe(201)
  })

  it('vitalwire devices add --type refuses an unknown mapping with the list of known ones', async () => {
    const h = await start()
    await h.enrollPatient('p1')
    const bad = await runCli(
      ['devices', 'add', '--id', 'd1', '--patient', 'p1', '--type', 'acme'],
      h.env,
      120_000,
    )
    expect(bad.code).toBe(2)
    expect(bad.stderr).toContain(
      'known: generic, cellular-bp-cuff, glucometer-mmol, pulse-ox-batch, scale-lb',
    )
    const ok = await runCli(
      ['devices', 'add', '--id', 'd1', '--patient', 'p1', '--type', 'pulse-ox-batch', '--json'],
      h.env,
      120_000,
    )
    expect(ok.code).toBe(0)
    expect(query(h, 'SELECT type FROM devices')).toEqual([{ type: 'pulse-ox-batch' }])
  }, 300_000)

  it('dead-letters readings of a device whose type names no mapping instead of guessing the format', async () => {
    const h = await start()
    await h.enrollPatient('p1')
    // Enrolled past the CLI check (e.g. a mapping removed since): its payloads must not be guessed.
    const d = await h.connectDevice('odd-1', await h.enrollDevice('odd-1', 'p1', 'secret', 'retired-vendor'))
    await d.publishAsync(TOPIC('odd-1'), JSON.stringify({ id: 'x', type: 'spo2', value: 97 }), { qos: 1 })
    expect(query(h, 'SELECT key FROM readings')).toEqual([])
    expect(query<{ reason: string }>(h, 'SELECT reason FROM dead_letters')).toEqual([
      { reason: 'device type retired-vendor has no mapping' },
    ])
  })

  it('stores and alerts once for the same reading id sent again after a restart', async () => {
    const dataDir = tempDir()
    const first = await startHarness({ dataDir })
    await first.enrollPatient('p1')
    const creds = await first.enrollDevice('hr-9', 'p1')
    const alert = nextMessage(on(first, 'alert'), () => true)
    const d1 = await first.connectDevice('hr-9', creds)
    const reading = JSON.stringify({ id: 'r-142', type: 'heart-rate', value: 142 })
    await d1.publishAsync(TOPIC('hr-9'), reading, { qos: 1 })
    expect((await alert).rule).toBe('hr-high')
    await d1.endAsync(true)
    await first.running.close()

    const second = await start(dataDir)
    const emitted: string[] = []
    second.running.events.on('observations', (list) => emitted.push(...list.map((o) => o.key)))
    const later = nextMessage(on(second, 'observations'), (list) => list.some((o) => o.key === 'hr-9:r-70'))
    const d2 = await second.connectDevice('hr-9', creds)
    await d2.publishAsync(TOPIC('hr-9'), reading, { qos: 1 })
    await d2.publishAsync(TOPIC('hr-9'), JSON.stringify({ id: 'r-70', type: 'heart-rate', value: 70 }), {
      qos: 1,
    })
    await later
    expect(emitted).toEqual(['hr-9:r-70'])
    expect(query(second, 'SELECT key FROM readings ORDER BY key')).toEqual([
      { key: 'hr-9:r-142' },
      { key: 'hr-9:r-70' },
    ])
    // One alert per rule, not per delivery (HR 142 also scores 3 in NEWS2, so the news2 rule fires once).
    expect(query(second, 'SELECT rule FROM alerts ORDER BY rule')).toEqual([
      { rule: 'hr-high' },
      { rule: 'news2' },
    ])
    const metrics = await (await fetch(`${second.httpUrl}/metrics`)).text()
    expect(metrics).toContain('vitalwire_readings_total{outcome="duplicate",code=""} 1')
  })

  it('keeps aside a different reading sent under a used id, tells the device, and never takes it for a replay', async () => {
    const h = await start()
    await h.enrollPatient('p1')
    const device = await h.connectDevice('ox-1', await h.enrollDevice('ox-1', 'p1'))
    await device.subscribeAsync('rpm/v1/devices/ox-1/errors', { qos: 1 })
    const errors: any[] = []
    device.on('message', (_t, m) => errors.push(JSON.parse(String(m))))
    const ts = new Date(Date.now() - 60_000).toISOString()
    const first = JSON.stringify({ id: 's-1', type: 'spo2', value: 97, unit: '%', ts })
    await device.publishAsync(TOPIC('ox-1'), first, { qos: 1 })
    // The same reading again (a retransmission): a replay, silently stored once.
    await device.publishAsync(TOPIC('ox-1'), first, { qos: 1 })
    // Firmware whose counter restarted: another value under the same id. A desaturation, of all things.
    const other = JSON.stringify({
      id: 's-1',
      type: 'spo2',
      value: 82,
      unit: '%',
      ts: new Date().toISOString(),
    })
    await device.publishAsync(TOPIC('ox-1'), other, { qos: 1 })

    await eventuallyTrue(() => errors.length === 1)
    expect(errors).toEqual([
      {
        readingId: 's-1',
        code: 'VW_ERR_INGEST_ID_REUSED',
        message: expect.stringContaining('was already used for a different reading'),
      },
    ])
    expect(query(h, 'SELECT vals FROM readings')).toEqual([{ vals: '{"value":97}' }])
    const letters = query<{ code: string; reading_id: string; payload: Uint8Array }>(
      h,
      'SELECT code, reading_id, payload FROM dead_letters',
    )
    expect(letters.map((l) => [l.code, l.reading_id])).toEqual([['VW_ERR_INGEST_ID_REUSED', 's-1']])
    // The message itself is kept, to repair and replay.
    expect(Buffer.from(letters[0].payload).toString()).toBe(other)
    const metrics = await (await fetch(`${h.httpUrl}/metrics`)).text()
    expect(metrics).toContain('vitalwire_readings_total{outcome="duplicate",code=""} 1')
    expect(metrics).toContain('vitalwire_readings_total{outcome="rejected",code="VW_ERR_INGEST_ID_REUSED"} 1')
  })

  it("takes a glucometer's HI under the id of its LO, or a day's steps under an interval count's id, for a different reading", async () => {
    // LO and HI carry no value, and a day's total differs from an interval count only by its flag: both
    // were acknowledged as replays and dropped without a word, and the HI never alerted.
    const h = await start()
    await h.enrollPatient('p1')
    const device = await h.connectDevice('gl-1', await h.enrollDevice('gl-1', 'p1'))
    await device.subscribeAsync('rpm/v1/devices/gl-1/errors', { qos: 1 })
    const errors: any[] = []
    device.on('message', (_t, m) => errors.push(JSON.parse(String(m))))
    const ts = new Date(Date.now() - 60_000).toISOString()
    const send = (r: object) => device.publishAsync(TOPIC('gl-1'), JSON.stringify({ ts, ...r }), { qos: 1 })
    await send({ id: 'g-1', type: 'blood-glucose', value: 'LO', unit: 'mg/dL' })
    await send({ id: 'g-1', type: 'blood-glucose', value: 'LO', unit: 'mg/dL' }) // a replay
    await send({ id: 'g-1', type: 'blood-glucose', value: 'HI', unit: 'mg/dL' })
    await send({ id: 's-1', type: 'steps', value: 4200, unit: '{steps}' })
    await send({ id: 's-1', type: 'steps', value: 4200, unit: '/d' })
    await eventuallyTrue(() => errors.length === 2)
    expect(errors.map((e) => [e.readingId, e.code])).toEqual([
      ['g-1', 'VW_ERR_INGEST_ID_REUSED'],
      ['s-1', 'VW_ERR_INGEST_ID_REUSED'],
    ])
    expect(query(h, 'SELECT key, out_of_range, flags FROM readings ORDER BY key')).toEqual([
      { key: 'gl-1:g-1', out_of_range: 'L', flags: null },
      { key: 'gl-1:s-1', out_of_range: null, flags: null },
    ])
    const metrics = await (await fetch(`${h.httpUrl}/metrics`)).text()
    expect(metrics).toContain('vitalwire_readings_total{outcome="duplicate",code=""} 1')
  })

  it("refuses a reused id once for a cuff's reading and its pulse, naming the id the device sent", async () => {
    const h = await start()
    await h.enrollPatient('p1')
    const device = await h.connectDevice('cuff-2', await h.enrollDevice('cuff-2', 'p1'))
    await device.subscribeAsync('rpm/v1/devices/cuff-2/errors', { qos: 1 })
    const errors: any[] = []
    device.on('message', (_t, m) => errors.push(JSON.parse(String(m))))
    const bp = (systolic: number, pulse: number) =>
      JSON.stringify({ id: 'b-1', type: 'blood-pressure', systolic, diastolic: 80, pulse, unit: 'mmHg' })
    await device.publishAsync(TOPIC('cuff-2'), bp(120, 70), { qos: 1 })
    await device.publishAsync(TOPIC('cuff-2'), bp(165, 95), { qos: 1 })
    await eventuallyTrue(() => errors.length > 0)
    await new Promise((r) => setTimeout(r, 300))
    expect(errors.map((e) => [e.readingId, e.code])).toEqual([['b-1', 'VW_ERR_INGEST_ID_REUSED']])
    const letters = query<{ reading_id: string }>(h, 'SELECT reading_id FROM dead_letters')
    expect(letters.map((l) => l.reading_id)).toEqual(['b-1'])
  })

  it('stores a blood pressure whose pulse is implausible, without the pulse, and tells the device why', async () => {
    const h = await start()
    await h.enrollPatient('p1')
    const device = await h.connectDevice('cuff-1', await h.enrollDevice('cuff-1', 'p1'))
    await device.subscribeAsync('rpm/v1/devices/cuff-1/errors', { qos: 1 })
    const error = new Promise<any>((resolve) =>
      device.on('message', (_t, m) => resolve(JSON.parse(String(m)))),
    )
    const sent = JSON.stringify({
      id: 'bp-1',
      type: 'blood-pressure',
      systolic: 182,
      diastolic: 121,
      pulse: 0,
    })
    await device.publishAsync(TOPIC('cuff-1'), sent, { qos: 1 })
    expect(await error).toEqual({
      readingId: 'bp-1',
      code: 'VW_ERR_INGEST_IMPLAUSIBLE',
      message: expect.stringContaining('pulse 0 /min is outside the plausible range'),
    })
    // The blood pressure (a hypertensive crisis) is stored, and alerts: only the pulse was refused.
    expect(query(h, 'SELECT key, vals FROM readings')).toEqual([
      { key: 'cuff-1:bp-1', vals: '{"systolic":182,"diastolic":121}' },
    ])
    expect(query(h, 'SELECT code, reading_id FROM dead_letters')).toEqual([
      { code: 'VW_ERR_INGEST_IMPLAUSIBLE', reading_id: 'bp-1' },
    ])
    await eventuallyTrue(() => query(h, "SELECT 1 FROM alerts WHERE rule = 'bp-crisis'").length === 1)
  })
})
