import { createPrivateKey, X509Certificate } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ensureDevelopmentPki, issueCertificate } from './pki.ts'

// The development PKI: made on first start, reused later, and its server certificate renewed by the
// same CA before it runs out.

const DAY_MS = 86_400_000

describe('development PKI', () => {
  const dirs: string[] = []
  afterEach(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true })
  })
  const fresh = () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-pki-'))
    dirs.push(d)
    return d
  }
  const read = (file: string) => new X509Certificate(fs.readFileSync(file))

  it('reuses the server certificate, and issues it again with the same CA when it expires within 30 days', async () => {
    const dir = fresh()
    const p = await ensureDevelopmentPki(dir)
    const first = fs.readFileSync(p.serverCert, 'utf8')
    await ensureDevelopmentPki(dir)
    expect(fs.readFileSync(p.serverCert, 'utf8')).toBe(first)

    // A server certificate with 10 days left (a server started 815 days ago and left running).
    const ending = await issueCertificate(p, {
      commonName: 'localhost',
      usage: 'server',
      days: 10,
      altNames: ['localhost', '127.0.0.1', '::1'],
    })
    fs.writeFileSync(p.serverCert, ending.cert)
    fs.writeFileSync(p.serverKey, ending.key)
    await ensureDevelopmentPki(dir)
    const renewed = read(p.serverCert)
    expect(Date.parse(renewed.validTo) - Date.now()).toBeGreaterThan(800 * DAY_MS)
    // Signed by the CA the devices already trust, with a key that matches.
    expect(renewed.checkIssued(read(p.caCert))).toBe(true)
    expect(renewed.verify(read(p.caCert).publicKey)).toBe(true)
    expect(renewed.checkPrivateKey(createPrivateKey(fs.readFileSync(p.serverKey)))).toBe(true)
  })
})
