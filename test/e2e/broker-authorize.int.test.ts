import fs from 'node:fs'
import path from 'node:path'
import type { MqttClient } from 'mqtt'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Harness, startHarness, tempDir } from '../helpers/harness.ts'
import { requireBinary } from '../helpers/requirements.ts'
import {
  auditRows,
  closed,
  observed,
  reading,
  refusedCount,
  run,
  startChild,
  until,
  waitForAudit,
} from './broker-helpers.ts'

// Topic policy and client-id binding over real TLS: a device touches only its own topics.

const hasMosquitto = requireBinary('mosquitto_sub')

/** The SUBACK return code; mqtt.js reports 0x80 as an error that carries the packet. */
function grantedQos(client: MqttClient, topic: string): Promise<number> {
  return new Promise((resolve) =>
    client.subscribe(topic, { qos: 1 }, (err, granted) =>
      resolve(err ? (err as any).packet.granted[0] : granted![0].qos),
    ),
  )
}

describe('broker authorization', { timeout: 60_000 }, () => {
  let h: Harness
  let secret: string
  beforeEach(async () => {
    h = await startHarness({ only: ['broker', 'ingest', 'dashboard'] })
    await h.enrollPatient('p1')
    secret = (await h.enrollDevice('d1', 'p1')).secret!
    await h.enrollDevice('d2', 'p1')
  })
  afterEach(async () => h.close())

  it('refuses subscriptions outside the device’s own prefix with SUBACK 0x80, and audits each', async () => {
    const d1 = await h.connectDevice('d1', { secret })
    const refused = [
      'rpm/v1/devices/d2/errors',
      'rpm/v1/devices/+/errors',
      '#',
      '+/v1/devices/d1/errors',
      'rpm/#',
      '$SYS/#',
      '$share/g/rpm/v1/devices/d1/errors',
    ]
    for (const topic of refused) {
      expect(await grantedQos(d1, topic), topic).toBe(128) // [MQTT-3.9.3-2] failure return code
    }
    await until(() => {
      const rows = auditRows(h).filter((r) => r.action === 'mqtt.subscribe' && r.outcome === 'denied')
      return refused.every((t) => rows.some((r) => r.target === t && r.actor === 'device:d1')) || undefined
    }, 'an audit entry for every refused filter')
    expect(await grantedQos(d1, 'rpm/v1/devices/d1/#')).toBe(1)
    expect(await refusedCount(h, 'subscribe-topic')).toBe(refused.length)
  })

  it.each(['rpm/v1/devices/d2/readings', 'rpm/v1/devices/d1/errors', '$SYS/broker/clients', 'rpm/v1/other'])(
    'closes the connection of a device publishing to %s, and audits it',
    async (topic) => {
      const d1 = await h.connectDevice('d1', { secret })
      const gone = closed(d1)
      d1.publish(topic, reading('x'), { qos: 1 })
      await gone
      const row = await waitForAudit(h, (r) => r.action === 'mqtt.publish' && r.target === topic)
      expect(row).toMatchObject({ actor: 'device:d1', outcome: 'denied', ip: '127.0.0.1' })
    },
  )

  it('never keeps a retained publish from a device', async () => {
    const d1 = await h.connectDevice('d1', { secret })
    const stored = observed(h, 'd1:r1')
    await d1.publishAsync('rpm/v1/devices/d1/readings', reading('r1'), { qos: 1, retain: true })
    await stored
    const later = await h.connectDevice('d1', { secret })
    const got: string[] = []
    later.on('message', (t) => got.push(t))
    await later.subscribeAsync('rpm/v1/devices/d1/#', { qos: 1 })
    // A marker published after the subscription arrives; had a retained message been kept it would
    // have been delivered first ([MQTT-3.3.1-6]), so ordering proves its absence without sleeping.
    await later.publishAsync('rpm/v1/devices/d1/readings', '{"id":"bad-marker"}', { qos: 1 })
    await new Promise<void>((r) => later.on('message', () => r()))
    expect(got).toEqual(['rpm/v1/devices/d1/errors'])
  })

  it('never relays a reading, not even to the device subscribed under its own prefix', async () => {
    const d1 = await h.connectDevice('d1', { secret })
    const got: string[] = []
    d1.on('message', (t) => got.push(t))
    await d1.subscribeAsync('rpm/v1/devices/d1/#', { qos: 1 })
    const stored = observed(h, 'd1:r-echo')
    await d1.publishAsync('rpm/v1/devices/d1/readings', reading('r-echo'), { qos: 1 })
    await stored
    // The marker's error is published after the valid reading was handled: a relay of that reading
    // would have arrived first.
    const first = new Promise<void>((r) => d1.once('message', () => r()))
    await d1.publishAsync('rpm/v1/devices/d1/readings', '{"id":"bad-marker"}', { qos: 1 })
    await first
    expect(got).toEqual(['rpm/v1/devices/d1/errors'])
  })

  it('reports a bad reading on the device’s errors topic', async () => {
    const d1 = await h.connectDevice('d1', { secret })
    await d1.subscribeAsync('rpm/v1/devices/d1/errors', { qos: 1 })
    const message = new Promise<any>((r) => d1.on('message', (_t, p) => r(JSON.parse(String(p)))))
    await d1.publishAsync('rpm/v1/devices/d1/readings', JSON.stringify({ id: 'bad-1', type: 'heart-rate' }), {
      qos: 1,
    })
    expect(await message).toMatchObject({
      readingId: 'bad-1',
      code: expect.stringMatching(/^VW_ERR_INGEST_/),
    })
  })

  it.skipIf(!hasMosquitto)(
    'mosquitto_sub is granted its own errors topic and denied another device’s',
    async () => {
      const dir = tempDir('mosq-')
      const ca = path.join(dir, 'ca.crt')
      fs.writeFileSync(ca, h.ca)
      const port = new URL(h.mqttUrl).port
      const auth = [
        '-h',
        'localhost',
        '-p',
        port,
        '--cafile',
        ca,
        '-V',
        'mqttv311',
        '-i',
        'd1',
        '-u',
        'd1',
        '-P',
        secret,
      ]
      const denied = await run('mosquitto_sub', [
        ...auth,
        '-t',
        'rpm/v1/devices/d2/errors',
        '-C',
        '1',
        '-W',
        '5',
      ])
      expect(denied.stderr + denied.stdout).toMatch(/All subscription requests were denied/)
      await waitForAudit(h, (r) => r.action === 'mqtt.subscribe' && r.target === 'rpm/v1/devices/d2/errors')
      // -d prints the SUBACK: granted QoS 1 for the device's own topic.
      const own = startChild('stdbuf', [
        '-oL',
        'mosquitto_sub',
        ...auth,
        '-d',
        '-q',
        '1',
        '-t',
        'rpm/v1/devices/d1/errors',
      ])
      expect(await own.line((l) => /Subscribed \(mid: \d+\): 1/.test(l))).toBeTruthy()
      await own.stop()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  )

  it('lets a second connection with the same id take over: the old one is closed, logged and audited', async () => {
    const first = await h.connectDevice('d1', { secret })
    const firstClosed = closed(first)
    const second = await h.connectDevice('d1', { secret })
    await firstClosed
    expect(second.connected).toBe(true)
    const stored = observed(h, 'd1:after-takeover')
    await second.publishAsync('rpm/v1/devices/d1/readings', reading('after-takeover'), { qos: 1 })
    await stored
    await waitForAudit(h, (r) => r.action === 'mqtt.takeover' && r.target === 'd1' && r.ip === '127.0.0.1')
    expect(
      h.logs.some((l) => l.msg === 'device session taken over by a new connection' && l.deviceId === 'd1'),
    ).toBe(true)
  })
})
