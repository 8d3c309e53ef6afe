import { X509Certificate } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import type { Registry } from '../storage/ports.ts'
import { hashDeviceSecret } from './device-secret.ts'
import { VitalwireError } from './errors.ts'
import { generatePassword, generateSecret, hashSecret } from './secrets.ts'

// Enrollment used by both the CLI and the REST API, so the two can never drift apart.

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/
export const PATIENT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/

export type EnrolledDevice =
  | { id: string; patientId: string; auth: 'secret'; secret: string }
  | {
      id: string
      patientId: string
      auth: 'cert'
      /** Where the certificate is; absent for one sent in an API request. */
      cert?: string
      /** Absent when the certificate was issued for the device's own CSR: its key stays on the device. */
      key?: string
      /** A registered certificate's SHA-256 fingerprint, the one the broker will accept. */
      fingerprint?: string
      ca: string
      notAfter: string
    }

export async function enrollDevice(
  registry: Registry,
  opts: {
    id: string
    patientId: string
    type: string
    auth: 'secret' | 'cert'
    pkiDir: string
    outDir?: string
    days?: number
    /** With auth 'cert': the device's PKCS#10 request (PEM); the certificate is issued for its key. */
    csr?: string
    /**
     * With auth 'cert': a certificate the deployment's own CA issued (PEM), registered as it is (by its
     * fingerprint) instead of issuing one; `trustedCa` is that CA's PEM bundle (VITALWIRE_DEVICE_CA),
     * `file` where the certificate is, `serverCa` what the device trusts to verify the server.
     */
    certificate?: { pem: string; file?: string; trustedCa: string; serverCa: string }
    /** Device types (payload mapping ids) this installation knows; others are refused. */
    knownTypes?: readonly string[]
    /**
     * The deployment's own device CA (VITALWIRE_DEVICE_CA), when set: the broker trusts only it, so a
     * certificate from the development CA would be refused, and its private key is not ours to hold.
     */
    externalDeviceCa?: string
  },
): Promise<EnrolledDevice> {
  if (opts.auth === 'cert' && opts.externalDeviceCa && !opts.certificate) {
    throw new VitalwireError(
      'VW_ERR_VALIDATION',
      `this deployment uses its own device CA (VITALWIRE_DEVICE_CA=${opts.externalDeviceCa}); Vitalwire does not hold its private key, so it cannot issue device certificates: sign the device's CSR with that CA (docs/broker.md, "Using your own CA") or enroll the device with a secret`,
    )
  }
  if (opts.knownTypes && !opts.knownTypes.includes(opts.type)) {
    throw new VitalwireError(
      'VW_ERR_VALIDATION',
      `unknown device type ${JSON.stringify(opts.type)}; known types: ${opts.knownTypes.join(', ')}`,
    )
  }
  if (!DEVICE_ID_PATTERN.test(opts.id)) {
    throw new VitalwireError(
      'VW_ERR_VALIDATION',
      'device id must be 1-64 characters (a FHIR id): letters, digits, ".", "-", starting with a letter or digit',
    )
  }
  if (!(await registry.getPatient(opts.patientId)))
    throw new VitalwireError('VW_ERR_NOT_FOUND', `patient ${opts.patientId} not found`)
  if (await registry.getDevice(opts.id))
    throw new VitalwireError('VW_ERR_CONFLICT', `device ${opts.id} already exists`)
  if (opts.auth === 'secret') {
    const secret = generateSecret()
    await registry.addDevice({
      id: opts.id,
      patientId: opts.patientId,
      type: opts.type,
      auth: 'secret',
      secretHash: hashDeviceSecret(secret),
    })
    return { id: opts.id, patientId: opts.patientId, auth: 'secret', secret }
  }
  if (opts.certificate) {
    const c = checkExternalCertificate(opts.certificate, opts.id)
    await registry.addDevice({
      id: opts.id,
      patientId: opts.patientId,
      type: opts.type,
      auth: 'cert',
      certFingerprint: c.fingerprint256,
      certNotAfterMs: Date.parse(c.validTo),
    })
    return {
      id: opts.id,
      patientId: opts.patientId,
      auth: 'cert',
      ...(opts.certificate.file !== undefined ? { cert: opts.certificate.file } : {}),
      fingerprint: c.fingerprint256,
      ca: opts.certificate.serverCa,
      notAfter: new Date(Date.parse(c.validTo)).toISOString(),
    }
  }
  // The X.509 library is loaded only when a certificate is issued (it is the CLI's heaviest import).
  const { checkDeviceCsr, describeCertificate, issueCertificate, issueCertificateForCsr, pkiPaths } =
    await import('./pki.ts')
  const p = pkiPaths(opts.pkiDir)
  const days = opts.days ?? 365
  let issued: { cert: string; key?: string }
  if (opts.csr !== undefined) {
    const checked = await checkDeviceCsr(opts.csr, opts.id)
    if (!checked.ok)
      throw new VitalwireError('VW_ERR_VALIDATION', `certificate signing request refused: ${checked.problem}`)
    issued = { cert: await issueCertificateForCsr(p, checked.csr, { commonName: opts.id, days }) }
  } else {
    issued = await issueCertificate(p, { commonName: opts.id, usage: 'client', days })
  }
  const info = describeCertificate(issued.cert)
  const outDir = opts.outDir ?? path.join(opts.pkiDir, 'devices')
  fs.mkdirSync(outDir, { recursive: true, mode: 0o700 })
  const cert = path.join(outDir, `${opts.id}.crt`)
  const key = issued.key === undefined ? undefined : path.join(outDir, `${opts.id}.key`)
  fs.writeFileSync(cert, issued.cert, { mode: 0o644 })
  if (key) fs.writeFileSync(key, issued.key!, { mode: 0o600 })
  await registry.addDevice({
    id: opts.id,
    patientId: opts.patientId,
    type: opts.type,
    auth: 'cert',
    certFingerprint: info.fingerprint256,
    certNotAfterMs: info.notAfterMs,
  })
  return {
    id: opts.id,
    patientId: opts.patientId,
    auth: 'cert',
    cert,
    key,
    ca: p.caCert,
    notAfter: new Date(info.notAfterMs).toISOString(),
  }
}

/**
 * A certificate from the deployment's CA, to register for device `id`: for CN = id, issued and signed
 * by one of the CA bundle's certificates, and not expired. Anything else is refused saying why (the
 * broker would refuse it at every connect, with only "not authorized" to show for it).
 */
function checkExternalCertificate(c: { pem: string; trustedCa: string }, id: string): X509Certificate {
  let cert: X509Certificate
  try {
    cert = new X509Certificate(c.pem)
  } catch {
    throw new VitalwireError('VW_ERR_VALIDATION', 'the device certificate is not a PEM certificate')
  }
  const cn = cert.subject
    .split('\n')
    .find((l) => l.startsWith('CN='))
    ?.slice(3)
  if (cn !== id)
    throw new VitalwireError(
      'VW_ERR_VALIDATION',
      `the certificate is for CN=${cn ?? '(none)'}, not the device id ${id}`,
    )
  const cas = (c.trustedCa.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map(
    (pem) => new X509Certificate(pem),
  )
  if (!cas.some((ca) => cert.checkIssued(ca) && cert.verify(ca.publicKey)))
    throw new VitalwireError(
      'VW_ERR_VALIDATION',
      `the certificate was not issued by the device CA (${cert.issuer.replace(/\n/g, ', ')}): the broker would refuse it`,
    )
  if (Date.parse(cert.validTo) <= Date.now())
    throw new VitalwireError(
      'VW_ERR_VALIDATION',
      `the certificate expired on ${new Date(cert.validTo).toISOString()}`,
    )
  return cert
}

/**
 * A new one-time password for a user who lost theirs (or whose account may be compromised): every
 * session opened with the old one ends, a lock from failed logins is lifted, and the first sign-in asks
 * for a new password, as for a new user. The password is returned once.
 */
export async function resetPassword(registry: Registry, userId: number) {
  const user = await registry.getUser(userId)
  if (!user) throw new VitalwireError('VW_ERR_NOT_FOUND', `user ${userId} not found`)
  const password = generatePassword()
  await registry.setPassword(user.id, await hashSecret(password), true)
  await registry.recordLogin(user.id, true, 0, 0)
  return { email: user.email, password }
}

/** Disable or enable a user; a disabled user's sessions, tokens and WebSockets stop at once. */
export async function setUserDisabled(
  registry: Registry,
  userId: number,
  disabled: boolean,
  nowMs = Date.now(),
) {
  const user = await registry.getUser(userId)
  if (!user) throw new VitalwireError('VW_ERR_NOT_FOUND', `user ${userId} not found`)
  await registry.setUserDisabled(user.id, disabled ? nowMs : undefined)
  return user
}

export async function addUser(
  registry: Registry,
  opts: {
    email: string
    role: 'admin' | 'coordinator' | 'clinician'
    patients: string[]
    /** false only for throwaway logins (demo, tests, benchmarks): usable without the first change. */
    oneTimePassword?: boolean
  },
) {
  if (!/^[^@\s]+@[^@\s]+$/.test(opts.email))
    throw new VitalwireError('VW_ERR_VALIDATION', `not an email address: ${opts.email}`)
  for (const p of opts.patients) {
    if (!(await registry.getPatient(p)))
      throw new VitalwireError('VW_ERR_NOT_FOUND', `patient ${p} not found`)
  }
  const password = generatePassword()
  const passwordHash = await hashSecret(password)
  const user = await registry.addUser({
    email: opts.email,
    role: opts.role,
    passwordHash,
    patients: opts.patients,
  })
  if (opts.oneTimePassword === false) await registry.setPassword(user.id, passwordHash, false)
  return { email: opts.email, password }
}

/**
 * Why a birth date (YYYY-MM-DD, already a real date) cannot be a patient's: in the future (a day of
 * slack for time zones). Undefined when it can.
 */
export function birthDateProblem(date: string, nowMs = Date.now()): string | undefined {
  const ms = Date.parse(`${date}T00:00:00Z`)
  if (ms > nowMs + 86_400_000) return `birth date ${date} is in the future`
  return undefined
}
