import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { exited, runCli, startServerProcess } from '../helpers/cli.ts'
import { tempDir } from '../helpers/harness.ts'
import { requireBinary } from '../helpers/requirements.ts'
import { reading, run } from './broker-helpers.ts'

// Accepting devices from the network with the development CA (VITALWIRE_MQTT_HOST=0.0.0.0, as the README
// says): a device on the network connects to this machine's address and verifies the server certificate
// against pki/ca.crt. Before, the certificate named only localhost, so every such device failed its TLS
// handshake. A data dir first started on loopback gets a new server certificate from the same CA.

const address = Object.values(os.networkInterfaces())
  .flat()
  .find((a) => a && !a.internal && a.family === 'IPv4')?.address
if (!address)
  process.stderr.write('\n*** SKIPPING broker-network: this machine has no non-loopback IPv4 address ***\n\n')

describe.skipIf(!address || !requireBinary('mosquitto_pub'))(
  'devices on the network',
  { timeout: 120_000 },
  () => {
    let dataDir: string
    let env: Record<string, string>
    beforeEach(() => {
      dataDir = tempDir()
      env = { VITALWIRE_DATA_DIR: dataDir }
    })
    afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }))

    it('connects a device over TLS to the machine address with the development CA', async () => {
      expect((await runCli(['patients', 'add', '--id', 'p1', '--name', 'Ada'], env)).code).toBe(0)
      const added = await runCli(['devices', 'add', '--id', 'hr-1', '--patient', 'p1', '--json'], env)
      const { secret } = JSON.parse(added.stdout)
      // First start on loopback only (the default): the server certificate names localhost.
      const first = await startServerProcess(env)
      first.child.kill('SIGTERM')
      await exited(first.child)
      const caBefore = fs.readFileSync(path.join(dataDir, 'pki', 'ca.crt'), 'utf8')

      const { child, ready } = await startServerProcess({ ...env, VITALWIRE_MQTT_HOST: '0.0.0.0' })
      try {
        // The same CA: devices that trusted it keep connecting.
        expect(fs.readFileSync(ready.ca, 'utf8')).toBe(caBefore)
        expect(ready.mqtts).toBe(`mqtts://${os.hostname()}:${new URL(ready.mqtts).port}`)
        const pub = await run('mosquitto_pub', [
          ...['-h', address!, '-p', new URL(ready.mqtts).port, '--cafile', ready.ca, '-V', 'mqttv311'],
          ...['-q', '1', '-i', 'hr-1', '-u', 'hr-1', '-P', secret],
          ...['-t', 'rpm/v1/devices/hr-1/readings', '-m', reading('r1')],
        ])
        // QoS 1: mosquitto_pub exits 0 only after the PUBACK, after the commit.
        expect(pub.code, pub.stderr).toBe(0)
      } finally {
        child.kill('SIGTERM')
        await exited(child)
      }
    })
  },
)
