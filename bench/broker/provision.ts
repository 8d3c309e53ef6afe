import fs from 'node:fs'
import path from 'node:path'
import { hashDeviceSecret } from '../../shared/device-secret.ts'
import { describeCertificate, ensureDevelopmentPki, issueCertificate } from '../../shared/pki.ts'
import { generateSecret } from '../../shared/secrets.ts'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'

// The bench's devices, registered in a fresh data directory: secret devices and certificate devices.

export type Creds = { id: string; secret?: string; cert?: string; key?: string }
export type Provisioned = Awaited<ReturnType<typeof provision>>

export async function provision(dir: string, secretDevices: number, certDevices: number) {
  const pki = await ensureDevelopmentPki(path.join(dir, 'pki'))
  const storage = openEmbeddedStorage({ dataDir: dir, dbPath: path.join(dir, 'vitalwire.db'), outbox: false })
  await storage.registry.addPatient({ id: 'bench', name: 'Bench Patient' })
  // One secret for every device keeps set-up quick; the broker verifies it for each device id as usual.
  const secret = generateSecret()
  const secretHash = hashDeviceSecret(secret)
  const secrets: Creds[] = []
  for (let i = 0; i < secretDevices; i++) {
    const id = `s-${i}`
    await storage.registry.addDevice({ id, patientId: 'bench', type: 'generic', auth: 'secret', secretHash })
    secrets.push({ id, secret })
  }
  const certs: Creds[] = []
  for (let i = 0; i < certDevices; i++) {
    const id = `c-${i}`
    const { cert, key } = await issueCertificate(pki, { commonName: id, usage: 'client', days: 30 })
    const info = describeCertificate(cert)
    await storage.registry.addDevice({
      id,
      patientId: 'bench',
      type: 'generic',
      auth: 'cert',
      certFingerprint: info.fingerprint256,
      certNotAfterMs: info.notAfterMs,
    })
    certs.push({ id, cert, key })
  }
  storage.close()
  return { pki, secrets, certs, ca: fs.readFileSync(pki.caCert, 'utf8') }
}
