import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import type { MqttClient } from 'mqtt'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BAD_INPUTS } from '../corpus/bad-input.ts'
import { type Harness, nextMessage, startHarness } from '../helpers/harness.ts'

// The bad-input corpus through real TLS MQTT: every message is acknowledged (no retransmit loop),
// dead-lettered with its reason (the payload kept once per message), reported to the device on its
// errors topic, counted in /metrics, and never stored as a reading. The server keeps working after.

type DeviceError = { readingId: string | null; code: string; message: string }

function errorsOf(client: MqttClient) {
  const listeners = new Set<(m: DeviceError) => void>()
  client.on('message', (_topic, payload) => {
    const m = JSON.parse(payload.toString()) as DeviceError
    for (const l of listeners) l(m)
  })
  return (fn: (m: DeviceError) => void) => {
    listeners.add(fn)
    return () => listeners.delete(fn)
  }
}

function metric(text: string, outcome: string, code: string): number {
  const line = text
    .split('\n')
    .find((l) => l.startsWith(`vitalwire_readings_total{outcome="${outcome}",code="${code}"}`))
  return line ? Number(line.split(' ').pop()) : 0
}

describe('bad input through real MQTT', () => {
  let h: Harness
  beforeAll(async () => {
    // The default packet limit (128 KiB) sits above the 64 KiB payload limit, so an oversize payload
    // reaches ingest and is dead-lettered (see docs/ingest.md).
    h = await startHarness({ env: { VITALWIRE_MQTT_RATE_PER_S: '1000' } })
    await h.enrollPatient('p1')
  })
  afterAll(async () => h?.close())

  it('acknowledges, dead-letters, reports and counts every bad message, and stores none', async () => {
    const creds = await h.enrollDevice('corpus-1', 'p1')
    let client: MqttClient | undefined
    let subscribe: ReturnType<typeof errorsOf> | undefined
    for (const [i, bad] of BAD_INPUTS.entries()) {
      // The errors topic is rate limited per connection (10 at once); a fresh connection every 8
      // messages, and after a message with many rejections, keeps every reply flowing and in order.
      if (i % 8 === 0 || BAD_INPUTS[i - 1]?.rejections) {
        await client?.endAsync()
        client = await h.connectDevice('corpus-1', creds)
        subscribe = errorsOf(client)
        await client.subscribeAsync('rpm/v1/devices/corpus-1/errors', { qos: 1 })
      }
      const reply = nextMessage(subscribe!, () => true)
      // publishAsync resolves on PUBACK: the poison message is acknowledged, so it is never resent.
      await client!.publishAsync('rpm/v1/devices/corpus-1/readings', bad.payload, { qos: 1 })
      const err = await reply
      expect(err, bad.name).toMatchObject({ code: bad.code, message: expect.any(String) })
      expect(Object.keys(err).sort()).toEqual(['code', 'message', 'readingId'])
    }
    await client!.publishAsync(
      'rpm/v1/devices/corpus-1/readings',
      JSON.stringify({ id: 'after-corpus', type: 'heart-rate', value: 64 }),
      { qos: 1 },
    )

    const db = new DatabaseSync(path.join(h.dataDir, 'vitalwire.db'), { readOnly: true })
    try {
      const keys = db
        .prepare('SELECT key FROM readings')
        .all()
        .map((r) => r.key)
      expect(keys).toEqual(['corpus-1:after-corpus'])
      const rows = db
        .prepare('SELECT code, reading_id, payload IS NOT NULL AS kept FROM dead_letters ORDER BY id')
        .all() as { code: string; reading_id: string | null; kept: number }[]
      const expected = BAD_INPUTS.reduce((n, b) => n + (b.rejections ?? 1), 0)
      expect(rows).toHaveLength(expected)
      // The payload is kept once per message (the one over 64 KiB too), never once per reading.
      expect(rows.filter((r) => r.kept).length).toBe(BAD_INPUTS.length)
      const batch = rows.filter((r) => r.reading_id?.startsWith('i-'))
      expect(batch).toHaveLength(500)
      expect(batch.filter((r) => r.kept)).toHaveLength(1)
    } finally {
      db.close()
    }

    const metrics = await (await fetch(`${h.httpUrl}/metrics`)).text()
    const byCode = new Map<string, number>()
    for (const b of BAD_INPUTS) byCode.set(b.code, (byCode.get(b.code) ?? 0) + (b.rejections ?? 1))
    for (const [code, n] of byCode) expect(metric(metrics, 'rejected', code), code).toBe(n)
    expect(metric(metrics, 'accepted', '')).toBe(1)
    expect(h.logs.filter((l) => l.level >= 50)).toEqual([])
    // Each rejection is logged by code, without the reason: it quotes the values, tied to a device.
    const rejected = h.logs.filter((l) => l.msg === 'reading rejected')
    expect(rejected.length).toBeGreaterThan(0)
    for (const l of rejected) expect(Object.keys(l)).not.toContain('reason')
    expect(JSON.stringify(rejected)).not.toMatch(/outside the plausible range/)
  })
})
