import 'reflect-metadata'
import { X509Certificate as NodeX509, webcrypto } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import * as x509 from '@peculiar/x509'

// The deployment's development PKI: one CA that signs the broker's server certificate (devices trust
// pki/ca.crt) and the device client certificates issued by `devices add --auth cert` (CN = device id).
// ECDSA P-256 throughout: TLS handshakes are much cheaper than with RSA. Built with @peculiar/x509.

x509.cryptoProvider.set(webcrypto as Crypto)
const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const
const DAY_MS = 86_400_000

export interface PkiPaths {
  dir: string
  caCert: string
  caKey: string
  serverCert: string
  serverKey: string
}

export function pkiPaths(dir: string): PkiPaths {
  return {
    dir,
    caCert: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    serverCert: path.join(dir, 'server.crt'),
    serverKey: path.join(dir, 'server.key'),
  }
}

async function newKeys(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as CryptoKeyPair
}

async function keyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY')
}

function serial(): string {
  // Positive 128-bit serial (RFC 5280 4.1.2.2: at most 20 octets, positive).
  const b = webcrypto.getRandomValues(new Uint8Array(16))
  b[0] &= 0x7f
  return Buffer.from(b).toString('hex')
}

function writeOwnerOnly(file: string, text: string) {
  fs.writeFileSync(file, text, { mode: 0o600 })
}

const isIp = (n: string) => /^[\d.]+$|:/.test(n)
const isLoopbackHost = (h: string) => h === 'localhost' || h === '::1' || h.startsWith('127.')

/**
 * The names devices (and browsers) may use to reach a server bound to `bindHosts`, for the development
 * server certificate: loopback always; for a network address, that address and this machine's name;
 * for a wildcard (0.0.0.0, ::), this machine's name and every address of its network interfaces.
 */
export function serverNames(bindHosts: string[]): string[] {
  const names = new Set(['localhost', '127.0.0.1', '::1'])
  for (const h of bindHosts) {
    if (isLoopbackHost(h)) continue
    names.add(os.hostname())
    if (h !== '0.0.0.0' && h !== '::') names.add(h)
    else
      for (const list of Object.values(os.networkInterfaces()))
        for (const a of list ?? []) if (!a.internal && !a.address.startsWith('fe80:')) names.add(a.address)
  }
  return [...names]
}

/** A development server certificate this close to its end is issued again at start. */
const RENEW_BEFORE_MS = 30 * DAY_MS

/**
 * Create the CA and the server certificate on first start; later starts reuse them. A server
 * certificate that lacks one of `hostnames` (the server now listens on the network), or that expires
 * within 30 days (it lives 825), is issued again by the same CA, so devices that trust the CA keep
 * connecting; without that, every device would one day be refused. A server that is never restarted keeps
 * serving the certificate it started with (docs/broker.md).
 */
export async function ensureDevelopmentPki(dir: string, hostnames: string[] = []): Promise<PkiPaths> {
  const p = pkiPaths(dir)
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  if (!fs.existsSync(p.caCert) || !fs.existsSync(p.caKey)) {
    const keys = await newKeys()
    const now = Date.now()
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(),
      name: 'CN=Vitalwire Development CA, O=Vitalwire',
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + 3650 * DAY_MS),
      signingAlgorithm: ALG,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    })
    writeOwnerOnly(p.caKey, await keyPem(keys.privateKey))
    fs.writeFileSync(p.caCert, ca.toString('pem'), { mode: 0o644 })
    fs.rmSync(p.serverCert, { force: true })
  }
  const altNames = [...new Set(['localhost', '127.0.0.1', '::1', ...hostnames])]
  if (
    !fs.existsSync(p.serverCert) ||
    !fs.existsSync(p.serverKey) ||
    !covers(p.serverCert, altNames) ||
    Date.parse(new NodeX509(fs.readFileSync(p.serverCert)).validTo) - Date.now() < RENEW_BEFORE_MS
  ) {
    const { cert, key } = await issueCertificate(p, {
      commonName: 'localhost',
      usage: 'server',
      days: 825,
      altNames,
    })
    writeOwnerOnly(p.serverKey, key)
    fs.writeFileSync(p.serverCert, cert, { mode: 0o644 })
  }
  return p
}

/** Whether the certificate in `file` is valid for every one of `names`. */
function covers(file: string, names: string[]): boolean {
  const cert = new NodeX509(fs.readFileSync(file))
  return names.every((n) => (isIp(n) ? cert.checkIP(n) : cert.checkHost(n)) !== undefined)
}

async function loadCa(p: PkiPaths) {
  const cert = new x509.X509Certificate(fs.readFileSync(p.caCert, 'utf8'))
  const der = x509.PemConverter.decodeFirst(fs.readFileSync(p.caKey, 'utf8'))
  const key = await webcrypto.subtle.importKey('pkcs8', der, ALG, false, ['sign'])
  return { cert, key }
}

export interface IssueOptions {
  commonName: string
  usage: 'server' | 'client'
  days: number
  altNames?: string[]
  notBefore?: Date
}

/** Issue a certificate signed by the CA in `p`; returns PEM certificate and PKCS#8 key. */
export async function issueCertificate(
  p: PkiPaths,
  opts: IssueOptions,
): Promise<{ cert: string; key: string }> {
  const ca = await loadCa(p)
  const keys = await newKeys()
  const notBefore = opts.notBefore ?? new Date(Date.now() - 60_000)
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension(
      [opts.usage === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth],
      false,
    ),
    await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
  ]
  if (opts.altNames?.length) {
    extensions.push(
      new x509.SubjectAlternativeNameExtension(
        opts.altNames.map((n) => ({
          type: isIp(n) ? ('ip' as const) : ('dns' as const),
          value: n,
        })),
      ),
    )
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${opts.commonName}`,
    issuer: ca.cert.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + opts.days * DAY_MS),
    signingAlgorithm: ALG,
    publicKey: keys.publicKey as CryptoKey,
    signingKey: ca.key as CryptoKey,
    extensions,
  })
  return { cert: cert.toString('pem'), key: await keyPem(keys.privateKey) }
}

/** Public keys a device CSR may carry: what the broker's TLS stack and the devices we know use. */
function acceptableKey(alg: Algorithm & { namedCurve?: string; modulusLength?: number }): boolean {
  if (alg.name === 'ECDSA') return alg.namedCurve === 'P-256' || alg.namedCurve === 'P-384'
  if (alg.name === 'RSASSA-PKCS1-v1_5' || alg.name === 'RSA-PSS') return (alg.modulusLength ?? 0) >= 2048
  return false
}

export type CsrCheck = { ok: true; csr: x509.Pkcs10CertificateRequest } | { ok: false; problem: string }

/**
 * Parse a PKCS#10 request and check it before anything is signed: the signature proves the requester
 * holds the private key; the subject CN, when present, must be the device id (a request made for
 * another device is a mix-up, not something to rename silently); the key must be one we accept.
 */
export async function checkDeviceCsr(pem: string, deviceId: string): Promise<CsrCheck> {
  let csr: x509.Pkcs10CertificateRequest
  try {
    csr = new x509.Pkcs10CertificateRequest(pem)
  } catch (e) {
    return { ok: false, problem: `not a PEM certificate signing request (${(e as Error).message})` }
  }
  let signed = false
  try {
    signed = await csr.verify()
  } catch {
    signed = false
  }
  if (!signed) return { ok: false, problem: 'the request signature does not verify' }
  const cn = csr.subjectName.getField('CN')
  if (cn.length > 1 || (cn.length === 1 && cn[0] !== deviceId)) {
    return { ok: false, problem: `the request is for CN=${cn.join(',')}, not the device id ${deviceId}` }
  }
  if (!acceptableKey(csr.publicKey.algorithm as any)) {
    return { ok: false, problem: 'the request key must be ECDSA P-256/P-384 or RSA of at least 2048 bits' }
  }
  return { ok: true, csr }
}

/**
 * Issue a client certificate for a device's own key pair (its private key never leaves the device).
 * Only the request's public key is used: the subject is always CN = device id and the extensions are
 * ours (end entity, clientAuth), never ones the request asks for.
 */
export async function issueCertificateForCsr(
  p: PkiPaths,
  csr: x509.Pkcs10CertificateRequest,
  opts: { commonName: string; days: number },
): Promise<string> {
  const ca = await loadCa(p)
  const notBefore = new Date(Date.now() - 60_000)
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: new x509.Name([{ CN: [opts.commonName] }]),
    issuer: ca.cert.subject,
    notBefore,
    notAfter: new Date(notBefore.getTime() + opts.days * DAY_MS),
    signingAlgorithm: ALG,
    publicKey: csr.publicKey,
    signingKey: ca.key as CryptoKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert),
    ],
  })
  return cert.toString('pem')
}

/** SHA-256 fingerprint and expiry of a PEM certificate, as Node reports them. */
export function describeCertificate(pem: string): {
  fingerprint256: string
  notAfterMs: number
  subject: string
} {
  const c = new NodeX509(pem)
  return { fingerprint256: c.fingerprint256, notAfterMs: Date.parse(c.validTo), subject: c.subject }
}
