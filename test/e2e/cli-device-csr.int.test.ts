import { execFileSync } from 'node:child_process'
import { createPublicKey, X509Certificate } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { exited, runCli, startServerProcess } from '../helpers/cli.ts'
import { tempDir } from '../helpers/harness.ts'
import { requireBinary } from '../helpers/requirements.ts'
import { reading, run } from './broker-helpers.ts'

// `vitalwire devices add --auth cert --csr FILE`: the device makes its own key pair and request
// (openssl, as device firmware or a factory station would), the CLI signs the request and writes only
// the certificate, and the device connects with it over mutual TLS (Debian mosquitto_pub).

const hasTools = requireBinary('openssl') && requireBinary('mosquitto_pub')

/** A device key pair and a PKCS#10 request made by openssl; `subject` is e.g. "/CN=dev-1". */
function deviceCsr(dir: string, name: string, subject: string) {
  const key = path.join(dir, `${name}.key`)
  const csr = path.join(dir, `${name}.csr`)
  execFileSync('openssl', [
    'req',
    '-new',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    key,
    '-out',
    csr,
    '-subj',
    subject,
  ])
  return { key, csr }
}

describe.skipIf(!hasTools)('vitalwire devices add --csr', { timeout: 120_000 }, () => {
  let dataDir: string
  let work: string
  let env: Record<string, string>
  beforeEach(async () => {
    dataDir = tempDir()
    work = tempDir('device-')
    env = { VITALWIRE_DATA_DIR: dataDir }
    expect((await runCli(['patients', 'add', '--id', 'p1', '--name', 'Ada'], env)).code).toBe(0)
  })
  afterEach(() => {
    fs.rmSync(dataDir, { recursive: true, force: true })
    fs.rmSync(work, { recursive: true, force: true })
  })

  it("signs the device's own request, writes only the certificate, and the device connects with mosquitto_pub", async () => {
    const { child, ready } = await startServerProcess(env)
    try {
      const dev = deviceCsr(work, 'csr-1', '/CN=csr-1')
      const keyBefore = fs.readFileSync(dev.key, 'utf8')
      const out = path.join(work, 'issued')
      const r = await runCli(
        ['devices', 'add', '--id', 'csr-1', '--patient', 'p1', '--auth', 'cert', '--csr', dev.csr].concat([
          '--out',
          out,
          '--json',
        ]),
        env,
      )
      expect(r.code, r.stderr).toBe(0)
      const printed = JSON.parse(r.stdout)
      expect(printed).toEqual({
        id: 'csr-1',
        cert: path.join(out, 'csr-1.crt'),
        ca: expect.any(String),
        notAfter: expect.any(String),
        connect: expect.objectContaining({
          clientId: 'csr-1',
          readingsTopic: 'rpm/v1/devices/csr-1/readings',
        }),
      })
      expect(printed.connect.username).toBeUndefined() // it authenticates with its certificate
      expect(fs.readdirSync(out)).toEqual(['csr-1.crt']) // no private key was made or written
      const cert = new X509Certificate(fs.readFileSync(printed.cert))
      expect(cert.subject).toBe('CN=csr-1')
      expect(cert.checkIssued(new X509Certificate(fs.readFileSync(printed.ca)))).toBe(true)
      const certKey = cert.publicKey.export({ type: 'spki', format: 'der' })
      expect(certKey.equals(createPublicKey(keyBefore).export({ type: 'spki', format: 'der' }))).toBe(true)

      const port = new URL(ready.mqtts).port
      const args = ['-h', 'localhost', '-p', port, '--cafile', printed.ca, '-V', 'mqttv311', '-q', '1']
      const pub = await run('mosquitto_pub', [
        ...args,
        '-i',
        'csr-1',
        '--cert',
        printed.cert,
        '--key',
        dev.key,
        '-t',
        'rpm/v1/devices/csr-1/readings',
        '-m',
        reading('r1'),
      ])
      // QoS 1: mosquitto_pub exits 0 only after the PUBACK, which the broker sends after the commit.
      expect(pub.code, pub.stderr).toBe(0)
      // The certificate's CN binds the client id.
      const other = await run('mosquitto_pub', [
        ...args,
        '-i',
        'someone-else',
        '--cert',
        printed.cert,
        '--key',
        dev.key,
        '-t',
        'rpm/v1/devices/someone-else/readings',
        '-m',
        reading('r2'),
      ])
      expect(other.code).not.toBe(0)
    } finally {
      child.kill('SIGTERM')
      await exited(child)
    }
  })

  it('issues CN = device id for a request without a CN', async () => {
    const dev = deviceCsr(work, 'anon', '/O=Acme Devices')
    const r = await runCli(
      ['devices', 'add', '--id', 'csr-2', '--patient', 'p1', '--auth', 'cert', '--csr', dev.csr, '--json'],
      env,
    )
    expect(r.code, r.stderr).toBe(0)
    const cert = new X509Certificate(fs.readFileSync(JSON.parse(r.stdout).cert))
    expect(cert.subject).toBe('CN=csr-2') // the request's other subject fields are not copied
  })

  it('refuses a request for another CN, a forged request, --csr without --auth cert, and an own device CA', async () => {
    const add = (id: string, csr: string, extra: string[] = ['--auth', 'cert'], e = env) =>
      runCli(['devices', 'add', '--id', id, '--patient', 'p1', '--csr', csr, ...extra], e)

    const other = deviceCsr(work, 'other', '/CN=other-device')
    const wrongCn = await add('csr-3', other.csr)
    expect(wrongCn.code).not.toBe(0)
    expect(wrongCn.stderr).toMatch(/CN=other-device, not the device id csr-3/)

    // Change the requested CN after signing: the signature no longer verifies.
    const signed = deviceCsr(work, 'aaaa', '/CN=aaaa')
    const der = Buffer.from(fs.readFileSync(signed.csr, 'utf8').replace(/-----[^-]+-----|\s/g, ''), 'base64')
    const at = der.indexOf('aaaa')
    der.write('bbbb', at)
    const forged = path.join(work, 'forged.csr')
    const b64 = der.toString('base64').replace(/.{64}/g, '$&\n')
    fs.writeFileSync(
      forged,
      `-----BEGIN CERTIFICATE REQUEST-----\n${b64}\n-----END CERTIFICATE REQUEST-----\n`,
    )
    const bad = await add('bbbb', forged)
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/signature does not verify/)

    const secret = await add('csr-4', other.csr, ['--auth', 'secret'])
    expect(secret.code).not.toBe(0)
    expect(secret.stderr).toMatch(/--csr needs --auth cert/)

    const ownCa = path.join(work, 'own-ca.crt')
    fs.writeFileSync(ownCa, 'not read: the command stops before issuing')
    const own = await add('csr-5', deviceCsr(work, 'c5', '/CN=csr-5').csr, ['--auth', 'cert'], {
      ...env,
      VITALWIRE_DEVICE_CA: ownCa,
    })
    expect(own.code).not.toBe(0)
    expect(own.stderr).toMatch(/requires that CA's private key/)

    // Nothing was enrolled by the refused commands.
    const list = JSON.parse((await runCli(['devices', 'list', '--json'], env)).stdout)
    expect(list.devices).toEqual([])
  })
})
