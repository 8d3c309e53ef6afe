import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { loadConfig } from './config.ts'

describe('loadConfig', () => {
  it('has embedded defaults on loopback', () => {
    const c = loadConfig({}, '/srv')
    expect(c.dataDir).toBe('/srv/data')
    expect(c.mqtt).toMatchObject({ host: '127.0.0.1', port: 8883 })
    expect(c.http).toMatchObject({ host: '127.0.0.1', port: 8080, tls: false })
    expect(c.influx).toBeUndefined()
    expect(Object.isFrozen(c.mqtt)).toBe(true)
  })

  it('names every bad variable in one error', () => {
    let message = ''
    try {
      loadConfig({ VITALWIRE_HTTP_PORT: 'eighty', VITALWIRE_MQTT_PORT: '70000', INFLUX_URL: 'ftp://x' })
    } catch (e) {
      message = (e as Error).message
    }
    expect(message).toContain('VITALWIRE_HTTP_PORT="eighty": expected an integer 0-65535')
    expect(message).toContain('VITALWIRE_MQTT_PORT="70000"')
    expect(message).toContain('INFLUX_URL="ftp://x"')
  })

  it('takes an empty value as unset: the default, never port 0 (a random port) or a zero limit', () => {
    const c = loadConfig(
      { VITALWIRE_HTTP_PORT: '', VITALWIRE_MQTT_PORT: '', VITALWIRE_MAX_FUTURE_S: '' },
      '/srv',
    )
    expect(c.http.port).toBe(8080)
    expect(c.mqtt.port).toBe(8883)
    expect(c.ingest.maxFutureMs).toBe(300_000)
  })

  it('reads an optional config file (VITALWIRE_CONFIG), the environment winning, and refuses unknown keys', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-config-'))
    const file = path.join(dir, 'vitalwire.env')
    fs.writeFileSync(file, '# the dashboard\nVITALWIRE_HTTP_PORT=9090\nVITALWIRE_LOG_LEVEL="debug"\n')
    const c = loadConfig({ VITALWIRE_CONFIG: file, VITALWIRE_HTTP_PORT: '9091' }, '/srv')
    expect([c.http.port, c.logLevel]).toEqual([9091, 'debug'])
    // Relative to the working directory, like VITALWIRE_DATA_DIR.
    expect(loadConfig({ VITALWIRE_CONFIG: 'vitalwire.env' }, dir).http.port).toBe(9090)
    fs.writeFileSync(file, 'VITALWIRE_HTTP_PROT=9090\n')
    expect(() => loadConfig({ VITALWIRE_CONFIG: file })).toThrow(/unknown setting VITALWIRE_HTTP_PROT/)
    fs.writeFileSync(file, 'VITALWIRE_HTTP_PORT=eighty\n')
    expect(() => loadConfig({ VITALWIRE_CONFIG: file })).toThrow(/VITALWIRE_HTTP_PORT="eighty"/)
    expect(() => loadConfig({ VITALWIRE_CONFIG: path.join(dir, 'nope.env') })).toThrow(
      /VITALWIRE_CONFIG: cannot read .*nope\.env \(ENOENT\)/,
    )
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('requires a 32-byte base64 data key and cert with key', () => {
    expect(() => loadConfig({ VITALWIRE_DATA_KEY: 'short' })).toThrow(/VITALWIRE_DATA_KEY/)
    expect(() => loadConfig({ VITALWIRE_TLS_CERT: '/x.crt' })).toThrow(/VITALWIRE_TLS_KEY/)
  })

  it('serves HTTPS when the HTTP bind is not loopback', () => {
    expect(loadConfig({ VITALWIRE_HTTP_HOST: '0.0.0.0' }).http.tls).toBe(true)
  })

  it('sends escalations (patient data) over TLS, or in plain http only to this machine', () => {
    for (const ok of [
      'https://oncall.example.org/hook',
      'http://localhost:9000/x',
      'http://127.0.0.1/x',
      'http://[::1]:8/x',
    ])
      expect(loadConfig({ VITALWIRE_ESCALATION_WEBHOOK: ok }).alerts.escalationWebhook, ok).toBe(ok)
    for (const bad of [
      'http://oncall.example.org/hook',
      'http://10.0.0.5/hook',
      'http://127.0.0.1.example.org/x',
    ])
      expect(() => loadConfig({ VITALWIRE_ESCALATION_WEBHOOK: bad }), bad).toThrow(
        /VITALWIRE_ESCALATION_WEBHOOK=.*use https:\/\//,
      )
  })
})
