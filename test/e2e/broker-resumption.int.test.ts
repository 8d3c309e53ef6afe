import path from 'node:path'
import type { TLSSocket } from 'node:tls'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { loadConfig } from '../../shared/config.ts'
import { issueCertificate, pkiPaths } from '../../shared/pki.ts'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { observed, reading, until, waitForAudit } from './broker-helpers.ts'

// TLS session resumption (session tickets), as reconnecting devices use it to skip the certificate
// exchange. Resumption only shortens the handshake: every CONNECT on a resumed session is still
// authenticated (secret, certificate fingerprint and expiry, client id = CN, revocation).

interface Attempt {
  client?: MqttClient
  code?: number
  reused: boolean
  /** The session ticket the broker issued on this connection. */
  ticket: Promise<Buffer>
}

function connect(h: Harness, opts: IClientOptions & { session?: Buffer }): Promise<Attempt> {
  const client = mqtt.connect(h.mqttUrl, {
    ca: h.ca,
    protocolVersion: 4,
    reconnectPeriod: 0,
    connectTimeout: 5000,
    ...opts,
  })
  const stream = client.stream as TLSSocket
  const ticket = new Promise<Buffer>((r) => stream.once('session', r))
  // Read at the handshake: once the broker has closed a refused connection the socket cannot tell.
  let reused = false
  stream.once('secureConnect', () => {
    reused = stream.isSessionReused()
  })
  return new Promise((resolve) => {
    client.once('connect', () => resolve({ client, reused, ticket }))
    client.once('error', (e: Error & { code?: number }) => {
      client.end(true)
      resolve({ code: e.code, reused, ticket })
    })
  })
}

/** A full handshake, then the ticket it earned. */
async function ticketFor(h: Harness, opts: IClientOptions): Promise<Buffer> {
  const first = await connect(h, opts)
  expect(first.client, `full handshake refused: ${first.code}`).toBeDefined()
  expect(first.reused).toBe(false)
  const ticket = await first.ticket
  await first.client!.endAsync()
  return ticket
}

describe('broker TLS session resumption', () => {
  let h: Harness
  beforeEach(async () => {
    h = await startHarness({ only: ['broker', 'ingest'] })
    await h.enrollPatient('p1')
  })
  afterEach(async () => h.close())

  it('resumes sessions of secret and certificate devices and still authenticates each CONNECT', async () => {
    const { secret } = await h.enrollDevice('s1', 'p1')
    const c1 = await h.enrollDevice('c1', 'p1', 'cert')
    await h.enrollDevice('c2', 'p1', 'cert')
    const bySecret = { clientId: 's1', username: 's1', password: secret }
    const byCert = { clientId: 'c1', cert: c1.cert, key: c1.key }

    for (const [id, opts] of [
      ['s1', bySecret],
      ['c1', byCert],
    ] as const) {
      const session = await ticketFor(h, opts)
      const resumed = await connect(h, { ...opts, session })
      expect(resumed.reused, `${id} resumed`).toBe(true)
      const stored = observed(h, `${id}:r1`)
      await resumed.client!.publishAsync(`rpm/v1/devices/${id}/readings`, reading('r1'), { qos: 1 })
      await stored
      await resumed.client!.endAsync()
    }

    // A resumed session does not stand in for the secret.
    const secretSession = await ticketFor(h, bySecret)
    const wrong = await connect(h, { ...bySecret, password: 'not-the-secret', session: secretSession })
    expect(wrong).toMatchObject({ reused: true, code: 4 })

    // c1's resumed session carries c1's certificate: it cannot be used under c2's client id.
    const certSession = await ticketFor(h, byCert)
    const asC2 = await connect(h, { clientId: 'c2', session: certSession, cert: c1.cert, key: c1.key })
    expect(asC2).toMatchObject({ reused: true, code: 2 })

    // Revocation applies to resumed sessions at once.
    const config = loadConfig(h.env)
    const s = openEmbeddedStorage({ dataDir: h.dataDir, dbPath: config.dbPath, outbox: false })
    await s.registry.revokeDevice('c1')
    s.close()
    const revoked = await connect(h, { ...byCert, session: certSession })
    expect(revoked).toMatchObject({ reused: true, code: 5 })
    await waitForAudit(h, (r) => r.target === 'c1' && String(r.detail).includes('device revoked'))
  })

  it('refuses a resumed session whose client certificate expired after the full handshake', async () => {
    // A certificate from the device CA that expires a few seconds from now (registered without a
    // fingerprint, the way a deployment's own PKI registers devices).
    const config = loadConfig(h.env)
    const dayMs = 86_400_000
    const notBefore = new Date(Date.now() - dayMs)
    const issued = await issueCertificate(pkiPaths(path.join(h.dataDir, 'pki')), {
      commonName: 'e1',
      usage: 'client',
      days: (dayMs + 3_000) / dayMs,
      notBefore,
    })
    const s = openEmbeddedStorage({ dataDir: h.dataDir, dbPath: config.dbPath, outbox: false })
    await s.registry.addDevice({ id: 'e1', patientId: 'p1', type: 'generic', auth: 'cert' })
    s.close()
    const opts = { clientId: 'e1', cert: issued.cert, key: issued.key }
    const session = await ticketFor(h, opts)
    const notAfterMs = new (await import('node:crypto')).X509Certificate(issued.cert).validToDate.getTime()
    await until(() => Date.now() > notAfterMs + 1_000 || undefined, 'the certificate to expire', 10_000)

    const resumed = await connect(h, { ...opts, session })
    expect(resumed).toMatchObject({ reused: true, code: 5 })
    await waitForAudit(h, (r) => r.target === 'e1' && String(r.detail).includes('certificate expired'))
  })
})
