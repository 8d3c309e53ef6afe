import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto'

// scrypt (RFC 7914) with per-hash salt; the string carries its parameters so they can be raised later.
// Passwords people choose get the full cost; device secrets and API tokens are 256-bit random values
// that no amount of guessing reaches, so they use a lower cost that keeps device reconnect storms cheap.
export const PASSWORD_COST = { N: 2 ** 15, r: 8, p: 1 } as const
export const RANDOM_SECRET_COST = { N: 2 ** 10, r: 8, p: 1 } as const

type Cost = { N: number; r: number; p: number }

function scryptAsync(secret: string, salt: Buffer, cost: Cost): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(secret, salt, 32, { ...cost, maxmem: 128 * cost.N * cost.r * 2 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  )
}

export async function hashSecret(secret: string, cost: Cost = PASSWORD_COST): Promise<string> {
  const salt = randomBytes(16)
  const key = await scryptAsync(secret, salt, cost)
  return `scrypt$${cost.N}$${cost.r}$${cost.p}$${salt.toString('base64url')}$${key.toString('base64url')}`
}

export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const parts = stored.split('$')
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false
  const [, n, r, p, salt, expected] = parts
  const want = Buffer.from(expected, 'base64url')
  const got = await scryptAsync(secret, Buffer.from(salt, 'base64url'), { N: +n, r: +r, p: +p })
  return got.length === want.length && timingSafeEqual(got, want)
}

/** A random secret for a device or a token: 32 bytes, base64url. */
export function generateSecret(bytes = 32): string {
  return randomBytes(bytes).toString('base64url')
}

/** A one-time password a person can type: 20 characters from an unambiguous alphabet. */
export function generatePassword(length = 20): string {
  const alphabet = 'abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'
  const bytes = randomBytes(length * 2)
  let out = ''
  for (let i = 0; out.length < length && i < bytes.length; i++) {
    // Reject bytes that would bias the distribution (256 is not a multiple of the alphabet size).
    if (bytes[i] < 256 - (256 % alphabet.length)) out += alphabet[bytes[i] % alphabet.length]
  }
  return out.length === length ? out : generatePassword(length)
}
