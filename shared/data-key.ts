import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'

// Patient identity fields are encrypted at rest with AES-256-GCM, so a copied database file alone
// reveals no identities. The key comes from VITALWIRE_DATA_KEY or a key file created owner-only.

export interface FieldCipher {
  encrypt(plain: string): string
  decrypt(sealed: string): string
}

export function loadDataKey(dataDir: string, fromEnv?: string): Buffer {
  if (fromEnv) return Buffer.from(fromEnv, 'base64')
  const file = path.join(dataDir, 'data.key')
  try {
    return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64')
  } catch (e: any) {
    if (e.code !== 'ENOENT') throw e
  }
  const key = randomBytes(32)
  // 'wx' fails if another process created it first; then read theirs.
  try {
    fs.writeFileSync(file, key.toString('base64'), { mode: 0o600, flag: 'wx' })
    return key
  } catch (e: any) {
    if (e.code === 'EEXIST') return Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64')
    throw e
  }
}

export function createFieldCipher(key: Buffer): FieldCipher {
  if (key.length !== 32) throw new Error('data key must be 32 bytes')
  return {
    encrypt(plain) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return `v1.${iv.toString('base64url')}.${body.toString('base64url')}.${cipher.getAuthTag().toString('base64url')}`
    },
    decrypt(sealed) {
      const [v, iv, body, tag] = sealed.split('.')
      if (v !== 'v1') throw new Error('unknown field encryption version')
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
      decipher.setAuthTag(Buffer.from(tag, 'base64url'))
      return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString(
        'utf8',
      )
    },
  }
}
