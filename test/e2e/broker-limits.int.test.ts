import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import mqtt from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { closed, rawTls, reading, refusedCount, socketClosed, until, waitForAudit } from './broker-helpers.ts'

// Every limit, configured through the environment, with its visible outcome: the connection or message
// is refused, vitalwire_mqtt_refused_total{reason} counts it, and the audit log names device and address.

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

async function start(env: Record<string, string> = {}) {
  h = await startHarness({ only: ['broker', 'ingest', 'dashboard'], env })
  await h.enrollPatient('p1')
  return h
}

/** Connect without the harness' helper: resolves with 'connected' or how the attempt ended. */
function attempt(
  url: string,
  ca: string,
  opts: mqtt.IClientOptions,
): Promise<{ ok: boolean; code?: number }> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { ca, protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5000, ...opts })
    c.once('connect', () => {
      c.end(true)
      resolve({ ok: true })
    })
    c.once('error', (e: any) => {
      c.end(true)
      resolve({ ok: false, code: e.code })
    })
    c.once('close', () => resolve({ ok: false }))
  })
}

describe('broker limits', () => {
  it('acknowledges and dead-letters a 100 KiB payload (over the 64 KiB payload limit) so it is not resent forever', async () => {
    await start()
    const { secret } = await h!.enrollDevice('d1', 'p1')
    const d1 = await h!.connectDevice('d1', { secret })
    await d1.subscribeAsync('rpm/v1/devices/d1/errors', { qos: 1 })
    const error = new Promise<any>((resolve) => d1.on('message', (_t, p) => resolve(JSON.parse(String(p)))))
    const big = Buffer.alloc(100 * 1024, 0x20)
    big.write('{"readings":[', 0)
    await d1.publishAsync('rpm/v1/devices/d1/readings', big, { qos: 1 })
    expect(await error).toMatchObject({
      code: 'VW_ERR_INGEST_PAYLOAD',
      message: expect.stringMatching(/exceeds 65536/),
    })
    expect(d1.connected).toBe(true)
    // Acknowledged, so kept whole: it can be repaired and replayed (an offline buffer sent as one batch).
    const db = new DatabaseSync(path.join(h!.dataDir, 'vitalwire.db'), { readOnly: true })
    try {
      const [letter] = db.prepare('SELECT payload FROM dead_letters').all() as { payload: Uint8Array }[]
      expect(Buffer.from(letter.payload).equals(big)).toBe(true)
    } finally {
      db.close()
    }
  })

  it('closes a connection sending a 200 KiB publish (packet limit 128 KiB) and keeps serving others', async () => {
    await start()
    const { secret } = await h!.enrollDevice('d1', 'p1')
    const d1 = await h!.connectDevice('d1', { secret })
    const gone = closed(d1)
    d1.publish('rpm/v1/devices/d1/readings', Buffer.alloc(200 * 1024, 0x20), { qos: 1 })
    await gone
    const row = await waitForAudit(h!, (r) => r.action === 'mqtt.packet-size' && r.actor === 'device:d1')
    expect(row.detail).toMatch(/exceeds 131072/)
    expect(await refusedCount(h!, 'packet-size')).toBe(1)
    const again = await h!.connectDevice('d1', { secret })
    await again.publishAsync('rpm/v1/devices/d1/readings', reading('small'), { qos: 1 })
  })

  it.each([
    ['CONNECT before authenticating', 0x10],
    ['PUBLISH', 0x30],
  ])('drops a forged 256 MB remaining length (%s) as soon as the header arrives', async (_name, type) => {
    await start()
    const s = await rawTls(h!)
    // Fixed header with the largest Remaining Length MQTT can encode ([MQTT-2.2.3]: 268,435,455).
    s.write(Buffer.from([type, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x04]))
    await socketClosed(s)
    await waitForAudit(h!, (r) => r.action === 'mqtt.packet-size' && r.ip === '127.0.0.1')
    expect(await refusedCount(h!, 'packet-size')).toBe(1)
  })

  it('honours VITALWIRE_MQTT_MAX_PACKET_BYTES', async () => {
    await start({ VITALWIRE_MQTT_MAX_PACKET_BYTES: '2048' })
    const { secret } = await h!.enrollDevice('d1', 'p1')
    const d1 = await h!.connectDevice('d1', { secret })
    await d1.publishAsync('rpm/v1/devices/d1/readings', reading('r1', { note: 'x'.repeat(1000) }), { qos: 1 })
    const gone = closed(d1)
    d1.publish('rpm/v1/devices/d1/readings', reading('r2', { note: 'x'.repeat(3000) }), { qos: 1 })
    await gone
  })

  it('keeps messages beyond the device’s rate aside (dead-lettered before the PUBACK), reports them, and carries on', async () => {
    await start({ VITALWIRE_MQTT_RATE_PER_S: '1', VITALWIRE_MQTT_BURST: '3' })
    const { secret } = await h!.enrollDevice('d1', 'p1')
    const d1 = await h!.connectDevice('d1', { secret })
    await d1.subscribeAsync('rpm/v1/devices/d1/errors', { qos: 1 })
    const rateError = new Promise<any>((resolve) =>
      d1.on('message', (_t, p) => {
        const m = JSON.parse(String(p))
        if (m.code === 'VW_ERR_INGEST_RATE') resolve(m)
      }),
    )
    // Every message is acknowledged, and every acknowledged message is kept: 3 within the burst are
    // stored, the 3 over it are dead-lettered whole (a rate-limited reading acknowledged and dropped
    // would be a reading lost after the device was told it was received).
    await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        d1.publishAsync('rpm/v1/devices/d1/readings', reading(`r${i}`), { qos: 1 }),
      ),
    )
    expect((await rateError).message).toMatch(/more than 1 messages\/s/)
    expect(await refusedCount(h!, 'rate')).toBe(3)
    const db = new DatabaseSync(path.join(h!.dataDir, 'vitalwire.db'), { readOnly: true })
    const stored = (db.prepare('SELECT key FROM readings ORDER BY key').all() as { key: string }[]).map(
      (r) => r.key,
    )
    const kept = db.prepare("SELECT payload FROM dead_letters WHERE code = 'VW_ERR_INGEST_RATE'").all() as {
      payload: Uint8Array
    }[]
    db.close()
    const keptIds = kept.map((r) => JSON.parse(Buffer.from(r.payload).toString()).id)
    expect([...stored.map((k) => k.split(':')[1]), ...keptIds].sort()).toEqual([
      'r0',
      'r1',
      'r2',
      'r3',
      'r4',
      'r5',
    ])
    expect(keptIds).toHaveLength(3)
    // One audit entry per connection, however long the flood.
    await waitForAudit(h!, (r) => r.action === 'mqtt.rate' && r.actor === 'device:d1')
    expect(d1.connected).toBe(true)
  })

  it('limits a device, not a connection: reconnecting gives it no new burst', async () => {
    await start({ VITALWIRE_MQTT_RATE_PER_S: '1', VITALWIRE_MQTT_BURST: '3' })
    const { secret } = await h!.enrollDevice('d1', 'p1')
    // Two connections one after another, three messages each: only the first burst is stored (each
    // connection used to get a fresh one, so a device could send at any rate by reconnecting).
    for (const run of ['a', 'b']) {
      const d1 = await h!.connectDevice('d1', { secret })
      await Promise.all(
        [0, 1, 2].map((i) =>
          d1.publishAsync('rpm/v1/devices/d1/readings', reading(`${run}${i}`), { qos: 1 }),
        ),
      )
      await d1.endAsync()
    }
    const db = new DatabaseSync(path.join(h!.dataDir, 'vitalwire.db'), { readOnly: true })
    const stored = (db.prepare('SELECT count(*) AS n FROM readings').get() as { n: number }).n
    const kept = (
      db.prepare("SELECT count(*) AS n FROM dead_letters WHERE code = 'VW_ERR_INGEST_RATE'").get() as {
        n: number
      }
    ).n
    db.close()
    // 1/s refills about one token per second of the test: under the 6 a fresh burst each time gives.
    expect(stored).toBeLessThan(6)
    expect(stored + kept).toBe(6)
  })

  it('disconnects a device far over its rate without acknowledging, so the flood cannot fill the disk', async () => {
    await start({ VITALWIRE_MQTT_RATE_PER_S: '1', VITALWIRE_MQTT_BURST: '2' })
    const { secret } = await h!.enrollDevice('d1', 'p1')
    const d1 = await h!.connectDevice('d1', { secret })
    const acked: string[] = []
    const gone = closed(d1)
    for (let i = 0; i < 10; i++) {
      d1.publishAsync('rpm/v1/devices/d1/readings', reading(`f${i}`), { qos: 1 }).then(
        () => acked.push(`f${i}`),
        () => {},
      )
    }
    await gone
    const db = new DatabaseSync(path.join(h!.dataDir, 'vitalwire.db'), { readOnly: true })
    const stored = (db.prepare('SELECT key FROM readings').all() as { key: string }[]).map(
      (r) => r.key.split(':')[1],
    )
    const kept = (db.prepare('SELECT payload FROM dead_letters').all() as { payload: Uint8Array }[]).map(
      (r) => JSON.parse(Buffer.from(r.payload).toString()).id,
    )
    db.close()
    expect(stored.length + kept.length).toBe(4)
    // Everything the device heard acknowledged is kept; the rest it still holds and will resend.
    for (const id of acked) expect([...stored, ...kept]).toContain(id)
  })

  it('slows down brute force: an address out of authentication failures is dropped before TLS', async () => {
    await start({ VITALWIRE_MQTT_AUTH_FAILURES_PER_MIN: '3' })
    const { secret } = await h!.enrollDevice('d1', 'p1')
    const wrong = { clientId: 'd1', username: 'd1', password: 'guess' }
    for (let i = 0; i < 4; i++)
      expect(await attempt(h!.mqttUrl, h!.ca, wrong)).toEqual({ ok: false, code: 4 })
    // Blocked now: even the right secret from this address is cut off at accept.
    const blocked = await attempt(h!.mqttUrl, h!.ca, { clientId: 'd1', username: 'd1', password: secret })
    expect(blocked.ok).toBe(false)
    expect(blocked.code).not.toBe(4)
    expect(await refusedCount(h!, 'blocked-address')).toBeGreaterThanOrEqual(1)
    expect(await refusedCount(h!, 'auth')).toBe(4)
  })

  it('refuses keepalive 0 and above the maximum without CONNACK ([MQTT-3.2.2-6])', async () => {
    await start({ VITALWIRE_MQTT_KEEPALIVE_MAX_S: '60' })
    const { secret } = await h!.enrollDevice('d1', 'p1')
    const creds = { clientId: 'd1', username: 'd1', password: secret }
    expect((await attempt(h!.mqttUrl, h!.ca, { ...creds, keepalive: 0 })).ok).toBe(false)
    expect((await attempt(h!.mqttUrl, h!.ca, { ...creds, keepalive: 61 })).ok).toBe(false)
    expect((await attempt(h!.mqttUrl, h!.ca, { ...creds, keepalive: 60 })).ok).toBe(true)
    expect(await refusedCount(h!, 'keepalive')).toBe(2)
    await waitForAudit(h!, (r) => r.action === 'mqtt.connect' && String(r.detail).includes('keepalive 61'))
  })

  it('refuses connections beyond VITALWIRE_MQTT_MAX_CONNECTIONS and accepts again when one leaves', async () => {
    await start({ VITALWIRE_MQTT_MAX_CONNECTIONS: '2' })
    const creds: Record<string, string> = {}
    for (const id of ['d1', 'd2', 'd3']) creds[id] = (await h!.enrollDevice(id, 'p1')).secret!
    const d1 = await h!.connectDevice('d1', { secret: creds.d1 })
    await h!.connectDevice('d2', { secret: creds.d2 })
    const d3 = { clientId: 'd3', username: 'd3', password: creds.d3 }
    expect((await attempt(h!.mqttUrl, h!.ca, d3)).ok).toBe(false)
    expect(await refusedCount(h!, 'max-connections')).toBe(1)
    await d1.endAsync()
    // The server frees the slot when it sees the close; retry until it has.
    await until(async () => (await attempt(h!.mqttUrl, h!.ca, d3)).ok || undefined, 'a free slot')
  })
})
