import fs from 'node:fs'
import path from 'node:path'
import mqtt from 'mqtt'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../shared/config.ts'
import { hashDeviceSecret } from '../../shared/device-secret.ts'
import { ensureDevelopmentPki, issueCertificate, pkiPaths } from '../../shared/pki.ts'
import { generateSecret, hashSecret, RANDOM_SECRET_COST } from '../../shared/secrets.ts'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'
import { runCli } from '../helpers/cli.ts'
import { type Harness, startHarness, tempDir } from '../helpers/harness.ts'
import { requireBinary } from '../helpers/requirements.ts'
import { auditRows, deviceRow, observed, reading, run, waitForAudit } from './broker-helpers.ts'

// Both ways a device proves who it is, over real TLS, with mqtt.js and with the Debian mosquitto clients.

const hasMosquitto = requireBinary('mosquitto_pub')

async function connackCode(h: Harness, opts: mqtt.IClientOptions): Promise<number> {
  const err = await mqtt
    .connectAsync(h.mqttUrl, {
      ca: h.ca,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      ...opts,
    })
    .then(
      (c) => {
        c.end(true)
        return undefined
      },
      (e: { code?: number }) => e,
    )
  expect(err, 'connection should have been refused').toBeDefined()
  return err!.code as number
}

describe('broker authentication', () => {
  let h: Harness
  beforeEach(async () => {
    h = await startHarness({ only: ['broker', 'ingest', 'dashboard'] })
    await h.enrollPatient('p1')
  })
  afterEach(async () => h.close())

  it('accepts the right secret; a wrong secret gets CONNACK 4 and is audited without the secret', async () => {
    const { secret } = await h.enrollDevice('s1', 'p1')
    const ok = await h.connectDevice('s1', { secret })
    await ok.publishAsync('rpm/v1/devices/s1/readings', reading('r1'), { qos: 1 })
    const wrong = 'not-the-secret-0123456789abcdefghijklmnopqrst'
    expect(await connackCode(h, { clientId: 's1', username: 's1', password: wrong })).toBe(4)
    // An unknown id is indistinguishable from a wrong secret.
    expect(await connackCode(h, { clientId: 'ghost', username: 'ghost', password: wrong })).toBe(4)
    // The username must be the device's own id.
    expect(await connackCode(h, { clientId: 's1', username: 'other', password: secret })).toBe(4)
    const row = await waitForAudit(h, (r) => r.action === 'mqtt.connect' && r.target === 's1')
    expect(row).toMatchObject({ actor: 'device:s1', outcome: 'denied', ip: '127.0.0.1' })
    expect(JSON.parse(row.detail!)).toEqual({ reason: 'auth', detail: 'wrong secret' })
    await waitForAudit(h, (r) => r.target === 'ghost')
    const everything = JSON.stringify(auditRows(h)) + JSON.stringify(h.logs)
    expect(everything).not.toContain(wrong)
    expect(everything).not.toContain(secret)
    // Hash at rest: the database holds a SHA-256 digest of the (256-bit random) secret, never the secret.
    const db = fs.readFileSync(path.join(h.dataDir, 'vitalwire.db'))
    expect(db.includes(Buffer.from(secret!))).toBe(false)
    expect(deviceRow(h, 's1')?.secret_hash).toBe(hashDeviceSecret(secret!))
  })

  it('still accepts a device whose secret was hashed with scrypt before the SHA-256 format', async () => {
    const secret = generateSecret()
    const config = loadConfig(h.env)
    const s = openEmbeddedStorage({ dataDir: h.dataDir, dbPath: config.dbPath, outbox: false })
    await s.registry.addDevice({
      id: 'old1',
      patientId: 'p1',
      type: 'generic',
      auth: 'secret',
      secretHash: await hashSecret(secret, RANDOM_SECRET_COST),
    })
    s.close()
    const wrong = generateSecret()
    expect(await connackCode(h, { clientId: 'old1', username: 'old1', password: wrong })).toBe(4)
    // Twice: the second connection is checked against the verified-secret cache instead of scrypt.
    for (const r of ['r1', 'r2']) {
      const c = await h.connectDevice('old1', { secret })
      await c.publishAsync('rpm/v1/devices/old1/readings', reading(r), { qos: 1 })
      await c.endAsync()
    }
    expect(await connackCode(h, { clientId: 'old1', username: 'old1', password: wrong })).toBe(4)
  })

  it('accepts a device certificate with CN = device id; refuses expired, foreign-CA and mismatched ones', async () => {
    const c1 = await h.enrollDevice('c1', 'p1', 'cert')
    await h.enrollDevice('c2', 'p1', 'cert')
    const client = await h.connectDevice('c1', c1)
    await client.publishAsync('rpm/v1/devices/c1/readings', reading('r1'), { qos: 1 })

    const p = pkiPaths(path.join(h.dataDir, 'pki'))
    const expired = await issueCertificate(p, {
      commonName: 'c2',
      usage: 'client',
      days: 1,
      notBefore: new Date(Date.now() - 3 * 86_400_000),
    })
    expect(await connackCode(h, { clientId: 'c2', ...expired })).toBe(5)
    await waitForAudit(h, (r) => r.target === 'c2' && String(r.detail).includes('CERT_HAS_EXPIRED'))

    const foreign = await issueCertificate(await ensureDevelopmentPki(tempDir('foreign-ca-')), {
      commonName: 'c1',
      usage: 'client',
      days: 30,
    })
    expect(await connackCode(h, { clientId: 'c1', ...foreign })).toBe(5)
    await waitForAudit(
      h,
      (r) => r.target === 'c1' && String(r.detail).includes('client certificate rejected'),
    )

    // c1's valid certificate presented under c2's client id: [MQTT-3.1.3-8] identifier rejected.
    expect(await connackCode(h, { clientId: 'c2', cert: c1.cert, key: c1.key })).toBe(2)
    await waitForAudit(h, (r) => r.target === 'c2' && String(r.detail).includes('does not match'))
    // A certificate device cannot fall back to a secret, and a secret guess is told nothing more than
    // for an id that does not exist (4).
    expect(await connackCode(h, { clientId: 'c2', username: 'c2', password: 'x' })).toBe(4)
  })

  it('tells nothing about which device ids exist, are revoked or use certificates before the credentials hold', async () => {
    await h.enrollDevice('s1', 'p1')
    const gone = await h.enrollDevice('gone', 'p1')
    await h.enrollDevice('c3', 'p1', 'cert')
    expect((await runCli(['devices', 'revoke', 'gone'], h.env)).code).toBe(0)
    const probes = {
      unknownNoPassword: await connackCode(h, { clientId: 'nobody', username: 'nobody' }),
      knownNoPassword: await connackCode(h, { clientId: 's1', username: 's1' }),
      unknownWrong: await connackCode(h, { clientId: 'nobody', username: 'nobody', password: 'x' }),
      revokedWrong: await connackCode(h, { clientId: 'gone', username: 'gone', password: 'x' }),
      certDeviceWrong: await connackCode(h, { clientId: 'c3', username: 'c3', password: 'x' }),
    }
    expect(probes).toEqual({
      unknownNoPassword: 4,
      knownNoPassword: 4,
      unknownWrong: 4,
      revokedWrong: 4,
      certDeviceWrong: 4,
    })
    // With the right secret a revoked device is told why: not authorized.
    expect(await connackCode(h, { clientId: 'gone', username: 'gone', password: gone.secret })).toBe(5)
  })

  it.skipIf(!hasMosquitto)(
    'interoperates with mosquitto_pub using a secret and using a certificate',
    async () => {
      const { secret } = await h.enrollDevice('m1', 'p1')
      const cert = await h.enrollDevice('m2', 'p1', 'cert')
      const dir = tempDir('mosq-')
      fs.writeFileSync(path.join(dir, 'ca.crt'), h.ca)
      fs.writeFileSync(path.join(dir, 'm2.crt'), cert.cert!)
      fs.writeFileSync(path.join(dir, 'm2.key'), cert.key!)
      const port = new URL(h.mqttUrl).port
      const base = [
        '-h',
        'localhost',
        '-p',
        port,
        '--cafile',
        path.join(dir, 'ca.crt'),
        '-q',
        '1',
        '-V',
        'mqttv311',
      ]

      const stored1 = observed(h, 'm1:r1')
      const bySecret = await run('mosquitto_pub', [
        ...base,
        '-i',
        'm1',
        '-u',
        'm1',
        '-P',
        secret!,
        '-t',
        'rpm/v1/devices/m1/readings',
        '-m',
        reading('r1'),
      ])
      expect(bySecret.code, bySecret.stderr).toBe(0)
      await stored1

      const stored2 = observed(h, 'm2:r1')
      const byCert = await run('mosquitto_pub', [
        ...base,
        '-i',
        'm2',
        '--cert',
        path.join(dir, 'm2.crt'),
        '--key',
        path.join(dir, 'm2.key'),
        '-t',
        'rpm/v1/devices/m2/readings',
        '-m',
        reading('r1'),
      ])
      expect(byCert.code, byCert.stderr).toBe(0)
      await stored2

      const bad = await run('mosquitto_pub', [
        ...base,
        '-i',
        'm1',
        '-u',
        'm1',
        '-P',
        'wrong',
        '-t',
        'rpm/v1/devices/m1/readings',
        '-m',
        '{}',
      ])
      expect(bad.code).not.toBe(0)
      expect(bad.stderr).toMatch(/bad user name or password/i)
      fs.rmSync(dir, { recursive: true, force: true })
    },
  )
})
