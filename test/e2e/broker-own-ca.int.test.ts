import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import mqtt from 'mqtt'
import { afterEach, describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.ts'
import { type Harness, startHarness, tempDir } from '../helpers/harness.ts'
import { observed, reading } from './broker-helpers.ts'

// A deployment's own PKI, made with the openssl CLI (nothing of ours involved): one CA for the server
// certificate and a separate device CA. VITALWIRE_TLS_CERT/KEY and VITALWIRE_DEVICE_CA point at them.

function openssl(dir: string, args: string[]) {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
}

function makeCa(dir: string, name: string) {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '30',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  ])
}

function issue(dir: string, ca: string, name: string, cn: string, ext: string) {
  fs.writeFileSync(path.join(dir, `${name}.ext`), ext)
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${cn}`,
  ])
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '30',
    '-extfile',
    `${name}.ext`,
  ])
}

describe('broker with the deployment’s own CA', () => {
  let h: Harness | undefined
  afterEach(async () => h?.close())

  it('serves the configured server certificate and accepts only devices of the configured device CA', async () => {
    const dir = tempDir('own-pki-')
    makeCa(dir, 'server-ca')
    makeCa(dir, 'device-ca')
    issue(
      dir,
      'server-ca',
      'server',
      'mqtt.hospital.example',
      'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n',
    )
    issue(dir, 'device-ca', 'dev-1', 'dev-1', 'extendedKeyUsage=clientAuth\n')
    issue(dir, 'server-ca', 'dev-1-wrong-ca', 'dev-1', 'extendedKeyUsage=clientAuth\n')
    issue(dir, 'server-ca', 'dev-3', 'dev-3', 'extendedKeyUsage=clientAuth\n')
    const file = (n: string) => path.join(dir, n)
    h = await startHarness({
      only: ['broker', 'ingest'],
      env: {
        VITALWIRE_TLS_CERT: file('server.crt'),
        VITALWIRE_TLS_KEY: file('server.key'),
        VITALWIRE_DEVICE_CA: file('device-ca.crt'),
      },
    })
    // No development CA is created when the deployment brings its own.
    expect(fs.existsSync(path.join(h.dataDir, 'pki', 'ca.key'))).toBe(false)
    await h.enrollPatient('p1')
    // Registered with the CLI, as an operator does: the certificate the deployment's CA issued, as it is.
    const register = (id: string, cert: string) =>
      runCli(
        ['devices', 'add', '--id', id, '--patient', 'p1', '--auth', 'cert', '--cert', file(cert), '--json'],
        h!.env,
      )
    const registered = await register('dev-1', 'dev-1.crt')
    expect(registered.code, registered.stderr).toBe(0)
    expect(JSON.parse(registered.stdout)).toMatchObject({ id: 'dev-1', cert: file('dev-1.crt') })
    // Refused with the reason, where the broker would only have said "not authorized" at every connect.
    const wrongCn = await register('dev-2', 'dev-1.crt')
    expect([wrongCn.code, wrongCn.stderr]).toEqual([
      1,
      expect.stringContaining('the certificate is for CN=dev-1, not the device id dev-2'),
    ])
    const wrongCa = await register('dev-3', 'dev-3.crt')
    expect([wrongCa.code, wrongCa.stderr]).toEqual([
      1,
      expect.stringContaining('was not issued by the device CA'),
    ])

    const connect = (cert: string) =>
      mqtt.connectAsync(h!.mqttUrl, {
        clientId: 'dev-1',
        ca: fs.readFileSync(file('server-ca.crt')),
        cert: fs.readFileSync(file(`${cert}.crt`)),
        key: fs.readFileSync(file(`${cert}.key`)),
        protocolVersion: 4,
        reconnectPeriod: 0,
      })
    const good = await connect('dev-1')
    const stored = observed(h, 'dev-1:r1')
    await good.publishAsync('rpm/v1/devices/dev-1/readings', reading('r1'), { qos: 1 })
    await stored
    await good.endAsync()
    await expect(connect('dev-1-wrong-ca')).rejects.toMatchObject({ code: 5 })
    fs.rmSync(dir, { recursive: true, force: true })
  })

  it('refuses to issue a device certificate through the API, since the CA key is the deployment’s', async () => {
    const dir = tempDir('own-pki-')
    makeCa(dir, 'device-ca')
    h = await startHarness({ env: { VITALWIRE_DEVICE_CA: path.join(dir, 'device-ca.crt') } })
    await h.enrollPatient('p1')
    const cookie = await h.login('admin@example.org', await h.addUser('admin@example.org', 'admin'))
    const enroll = (auth: string) =>
      fetch(`${h!.httpUrl}/api/devices`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({ id: `dev-${auth}`, patientId: 'p1', auth }),
      })
    const refused = await enroll('cert')
    expect(refused.status).toBe(400)
    const body = await refused.json()
    expect(body.error.code).toBe('VW_ERR_VALIDATION')
    expect(body.error.message).toMatch(/VITALWIRE_DEVICE_CA/)
    const listed = await fetch(`${h.httpUrl}/api/devices`, { headers: { cookie } })
    expect((await listed.json()).devices.map((d: { id: string }) => d.id)).not.toContain('dev-cert')
    // Secrets still work: they need no CA.
    expect((await enroll('secret')).status).toBe(201)
    // A certificate the deployment's CA issued is registered as it is, checked first.
    issue(dir, 'device-ca', 'dev-9', 'dev-9', 'extendedKeyUsage=clientAuth\n')
    const register = (id: string) =>
      fetch(`${h!.httpUrl}/api/devices`, {
        method: 'POST',
        headers: { cookie, 'content-type': 'application/json' },
        body: JSON.stringify({
          id,
          patientId: 'p1',
          auth: 'cert',
          certificate: fs.readFileSync(path.join(dir, 'dev-9.crt'), 'utf8'),
        }),
      })
    const wrong = await register('dev-8')
    expect([wrong.status, (await wrong.json()).error.message]).toEqual([
      400,
      'the certificate is for CN=dev-9, not the device id dev-8',
    ])
    const registered = await register('dev-9')
    expect(registered.status).toBe(201)
    expect(await registered.json()).toMatchObject({
      id: 'dev-9',
      auth: 'cert',
      fingerprint: expect.stringMatching(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/),
    })
    fs.rmSync(dir, { recursive: true, force: true })
  })
})
