import { describe, expect, it } from 'vitest'
import { digestDeviceSecret, hashDeviceSecret, storedDigest, verifyDeviceSecret } from './device-secret.ts'
import { generateSecret, hashSecret, RANDOM_SECRET_COST } from './secrets.ts'

describe('device secret hashes', () => {
  const secret = generateSecret()
  const bytes = Buffer.from(secret)

  it('stores one SHA-256 digest, never the secret', () => {
    const h = hashDeviceSecret(secret)
    expect(h).toMatch(/^sha256\$[A-Za-z0-9_-]{43}$/)
    expect(h).not.toContain(secret)
    expect(storedDigest(h)).toEqual(digestDeviceSecret(secret))
  })

  const cases: [string, () => string | Promise<string>, Buffer, boolean][] = [
    ['the right secret, new format', () => hashDeviceSecret(secret), bytes, true],
    ['a wrong secret, new format', () => hashDeviceSecret(secret), Buffer.from(generateSecret()), false],
    ['an empty secret', () => hashDeviceSecret(secret), Buffer.alloc(0), false],
    ['the right secret, scrypt hash from before', () => hashSecret(secret, RANDOM_SECRET_COST), bytes, true],
    [
      'a wrong secret, scrypt hash from before',
      () => hashSecret(secret, RANDOM_SECRET_COST),
      Buffer.from('x'),
      false,
    ],
    ['a truncated digest', () => 'sha256$AAAA', bytes, false],
    ['an unknown format', () => `md5$${secret}`, bytes, false],
  ]
  it.each(cases)('%s', async (_name, stored, presented, ok) => {
    expect(await verifyDeviceSecret(presented, await stored())).toBe(ok)
  })
})
