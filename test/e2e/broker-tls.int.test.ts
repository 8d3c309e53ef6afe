import net from 'node:net'
import os from 'node:os'
import mqtt from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { rawTls } from './broker-helpers.ts'

// Transport security of the defaults: TLS 1.2+ only; plain TCP only when asked for, and only on loopback.

let h: Harness | undefined
afterEach(async () => {
  await h?.close()
  h = undefined
})

describe('broker transport', () => {
  it('refuses TLS 1.1 and accepts TLS 1.2 and 1.3', async () => {
    h = await startHarness({ only: ['broker', 'ingest'] })
    // The client is allowed TLS 1.0/1.1 (SECLEVEL=0), so the refusal comes from the server.
    await expect(
      rawTls(h, { minVersion: 'TLSv1', maxVersion: 'TLSv1.1', ciphers: 'DEFAULT:@SECLEVEL=0' }),
    ).rejects.toThrow(/protocol version|unsupported protocol/i)
    for (const v of ['TLSv1.2', 'TLSv1.3'] as const) {
      const s = await rawTls(h, { minVersion: v, maxVersion: v })
      expect(s.getProtocol()).toBe(v)
      s.destroy()
    }
  })

  it('has no plaintext listener unless VITALWIRE_MQTT_PLAIN_PORT is set', async () => {
    h = await startHarness({ only: ['broker', 'ingest'] })
    expect(h.running.mqttPlainPort).toBeUndefined()
  })

  it('binds the plaintext listener to 127.0.0.1 only, even when the TLS listener is public', async () => {
    h = await startHarness({
      only: ['broker', 'ingest'],
      env: { VITALWIRE_MQTT_PLAIN_PORT: '0', VITALWIRE_MQTT_HOST: '0.0.0.0' },
    })
    await h.enrollPatient('p1')
    const { secret } = await h.enrollDevice('d1', 'p1')
    const port = h.running.mqttPlainPort!
    const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: 'd1',
      username: 'd1',
      password: secret,
      protocolVersion: 4,
      reconnectPeriod: 0,
    })
    await c.endAsync()
    const external = Object.values(os.networkInterfaces())
      .flat()
      .find((i) => i && i.family === 'IPv4' && !i.internal)?.address
    if (external) {
      const err = await new Promise<NodeJS.ErrnoException>((resolve) =>
        net
          .connect(port, external)
          .once('error', resolve)
          .once('connect', () => resolve(new Error('connected'))),
      )
      expect(err.code).toBe('ECONNREFUSED')
    }
  })
})
