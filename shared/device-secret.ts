import { createHash, timingSafeEqual } from 'node:crypto'
import { verifySecret } from './secrets.ts'

// Device secrets are 256-bit random values (generateSecret), not passwords a person picks: no dictionary
// or brute force reaches them, so a slow password hash buys nothing and one SHA-256 at rest is the
// accepted practice (as for API tokens in most systems). Stored as `sha256$<base64url digest>` and
// compared in constant time; it keeps a reconnect storm from paying a key-derivation function per
// device. Hashes written before this format (scrypt$..., shared/secrets.ts) still verify.

const PREFIX = 'sha256$'

export function digestDeviceSecret(secret: string | Uint8Array): Buffer {
  return createHash('sha256').update(secret).digest()
}

export function hashDeviceSecret(secret: string): string {
  return `${PREFIX}${digestDeviceSecret(secret).toString('base64url')}`
}

/** The stored digest of a `sha256$` hash, or undefined for another format. */
export function storedDigest(stored: string): Buffer | undefined {
  if (!stored.startsWith(PREFIX)) return undefined
  const d = Buffer.from(stored.slice(PREFIX.length), 'base64url')
  return d.length === 32 ? d : undefined
}

/** Constant-time check of a presented secret against a stored hash of either format. */
export async function verifyDeviceSecret(secret: Uint8Array, stored: string): Promise<boolean> {
  const want = storedDigest(stored)
  if (want) return timingSafeEqual(digestDeviceSecret(secret), want)
  if (stored.startsWith('scrypt$')) return verifySecret(Buffer.from(secret).toString('utf8'), stored)
  return false
}
