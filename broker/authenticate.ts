import { timingSafeEqual } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import { digestDeviceSecret, storedDigest, verifyDeviceSecret } from '../shared/device-secret.ts'
import { generateSecret } from '../shared/secrets.ts'
import type { Device } from '../storage/ports.ts'
import { DEVICE_ID } from './topics.ts'

// Device authentication, a pure policy over the registry: client certificate from the device CA with
// CN = device id, or username = device id + password = secret. The MQTT client id must equal the
// device id either way. Returns a reason on failure for the audit log; never the secret.

export interface DeviceRecord {
  device: Device
  /** False when the patient's monitoring is switched off: the patient's devices are refused. */
  monitoring: boolean
}

export type AuthOutcome = { ok: true; device: Device } | { ok: false; reason: string; code: 4 | 5 | 2 }

export interface AuthInput {
  clientId: string
  username?: string
  password?: Buffer
  socket?: TLSSocket | { getPeerX509Certificate?: undefined }
  nowMs: number
}

/**
 * The subject's single CN, or undefined when there is none or more than one. Node prints the subject one
 * RDN per line, the attributes of a multi-valued RDN joined by ' + ', values escaped per RFC 2253 (so an
 * escaped value never equals a device id, which DEVICE_ID limits to letters, digits, '-' and '.').
 */
export function commonName(subject: string): string | undefined {
  const cns = subject
    .split('\n')
    .flatMap((rdn) => rdn.split(' + '))
    .filter((a) => a.startsWith('CN='))
  return cns.length === 1 ? cns[0].slice(3) : undefined
}

export function createAuthenticator(lookup: (id: string) => Promise<DeviceRecord | undefined>) {
  // Secrets enrolled before the SHA-256 format have scrypt hashes: once verified, such a secret is
  // remembered as its SHA-256 so a reconnect storm does not pay scrypt each time.
  const verified = new Map<string, Buffer>()
  // An unknown id costs the same digest and constant-time compare as a wrong secret and gets the same
  // return code, so neither timing nor the CONNACK tells an attacker which device ids exist.
  const dummyDigest = digestDeviceSecret(generateSecret())

  async function authenticate(input: AuthInput): Promise<AuthOutcome> {
    const { clientId } = input
    if (!DEVICE_ID.test(clientId)) return { ok: false, code: 2, reason: 'client id is not a valid device id' }
    // Whether a device id exists (and whether it is revoked, paused or enrolled for certificates) is
    // told only to a client that has proven its credentials: before that, every refusal that depends on
    // the registry is CONNACK 4, like a wrong secret.
    const socket = input.socket as TLSSocket | undefined
    // The X509Certificate view, not getPeerCertificate(): that one builds a full JS object (raw DER,
    // public key, every extension) on each CONNECT, about 50 µs; this reads only the fields below.
    const peer = socket?.getPeerX509Certificate?.()
    if (peer) {
      // Checks of the certificate itself, the same whatever the device id.
      if (!socket!.authorized)
        return { ok: false, code: 5, reason: `client certificate rejected: ${socket!.authorizationError}` }
      // A resumed TLS session (session ticket) skips certificate verification, so the validity period
      // is checked here on every CONNECT: a ticket never outlives the certificate it was issued for.
      if (input.nowMs >= peer.validToDate.getTime())
        return { ok: false, code: 5, reason: 'client certificate expired' }
      if (input.nowMs < peer.validFromDate.getTime())
        return { ok: false, code: 5, reason: 'client certificate not yet valid' }
      if (commonName(peer.subject) !== clientId)
        return { ok: false, code: 2, reason: 'client id does not match certificate CN' }
      // A certificate our CA issued for this id: its holder may learn the rest.
      const record = await lookup(clientId)
      if (!record) return { ok: false, code: 4, reason: 'unknown device' }
      const { device } = record
      if (device.auth !== 'cert') return { ok: false, code: 5, reason: 'device enrolled for secret auth' }
      // Only the most recently issued certificate is valid: re-issuing supersedes the old one.
      if (device.certFingerprint && peer.fingerprint256 !== device.certFingerprint) {
        return { ok: false, code: 5, reason: 'certificate superseded' }
      }
      return authorized(record)
    }
    const record = await lookup(clientId)
    if (record?.device.auth !== 'secret' || !record.device.secretHash) {
      if (input.password?.length) timingSafeEqual(digestDeviceSecret(input.password), dummyDigest)
      return {
        ok: false,
        code: 4,
        reason: record ? 'device requires a client certificate' : 'unknown device',
      }
    }
    const { device } = record
    if (input.username !== clientId)
      return { ok: false, code: 4, reason: 'username must equal the client id' }
    if (!input.password || input.password.length === 0 || input.password.length > 256) {
      return { ok: false, code: 4, reason: 'missing or oversized password' }
    }
    const d = digestDeviceSecret(input.password)
    const stored = storedDigest(device.secretHash!)
    if (stored) {
      if (timingSafeEqual(stored, d)) return authorized(record)
      return { ok: false, code: 4, reason: 'wrong secret' }
    }
    // A scrypt hash from before the SHA-256 format.
    const known = verified.get(clientId)
    if (known && timingSafeEqual(known, d)) return authorized(record)
    if (!(await verifyDeviceSecret(input.password, device.secretHash!))) {
      return { ok: false, code: 4, reason: 'wrong secret' }
    }
    verified.set(clientId, d)
    return authorized(record)
  }

  /** Credentials proven: now a revoked device or a paused patient is said as such. */
  function authorized(record: DeviceRecord): AuthOutcome {
    if (record.device.revokedMs !== undefined) return { ok: false, code: 5, reason: 'device revoked' }
    if (!record.monitoring) return { ok: false, code: 5, reason: 'patient monitoring disabled' }
    return { ok: true, device: record.device }
  }

  return {
    authenticate,
    forget(deviceId: string) {
      verified.delete(deviceId)
    },
  }
}
