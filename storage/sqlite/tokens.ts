import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { TOKEN_DAYS, type TokenCheck } from '../ports.ts'
import type { Db } from './database.ts'

// API tokens for machine clients: `vwt_<id>_<secret>`, shown once. Only a SHA-256 of the secret is
// stored: the secret is 256 random bits, so a slow hash adds cost per request and no safety. A token
// expires (90 days unless the admin chose 1 to 365): a credential kept in some integration's config is
// otherwise valid for ever, long after anyone remembers it. Tokens issued before expiry existed have none.

export type TokenStore = ReturnType<typeof createSqliteTokenStore>

const digest = (s: string) => createHash('sha256').update(s).digest()

export function createSqliteTokenStore(db: Db, now: () => number = Date.now) {
  // Checked on every machine request: prepared once.
  const byId = db.prepare('SELECT user_id, token_hash, revoked_ms, expires_ms FROM api_tokens WHERE id = ?')
  return {
    async create(
      userId: number,
      label: string,
      days: number = TOKEN_DAYS.default,
    ): Promise<{ id: string; token: string; expiresAt: string }> {
      if (!Number.isInteger(days) || days < 1 || days > TOKEN_DAYS.max)
        throw new RangeError(`a token lasts 1 to ${TOKEN_DAYS.max} days, not ${days}`)
      const id = randomBytes(6).toString('hex')
      const secret = randomBytes(32).toString('base64url')
      const created = now()
      const expires = created + days * 86_400_000
      db.prepare(
        'INSERT INTO api_tokens (id, user_id, token_hash, label, created_ms, expires_ms) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(id, userId, digest(secret).toString('hex'), label, created, expires)
      return { id, token: `vwt_${id}_${secret}`, expiresAt: new Date(expires).toISOString() }
    },
    async verify(token: string): Promise<TokenCheck> {
      const m = /^vwt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(token)
      if (!m) return undefined
      const row = byId.get(m[1]) as
        | { user_id: number; token_hash: string; revoked_ms: number | null; expires_ms: number | null }
        | undefined
      if (!row || row.revoked_ms !== null) return undefined
      if (!timingSafeEqual(Buffer.from(row.token_hash, 'hex'), digest(m[2]))) return undefined
      if (row.expires_ms !== null && now() >= row.expires_ms)
        return { expiredAt: new Date(row.expires_ms).toISOString(), id: m[1] }
      return { userId: row.user_id }
    },
    async revoke(id: string): Promise<boolean> {
      return (
        db.prepare('UPDATE api_tokens SET revoked_ms = ? WHERE id = ? AND revoked_ms IS NULL').run(now(), id)
          .changes > 0
      )
    },
    async list() {
      return (
        db
          .prepare(
            'SELECT id, user_id, label, created_ms, revoked_ms, expires_ms FROM api_tokens ORDER BY created_ms',
          )
          .all() as any[]
      ).map((r) => ({
        id: r.id,
        userId: r.user_id,
        label: r.label,
        createdAt: new Date(r.created_ms).toISOString(),
        revokedAt: r.revoked_ms ? new Date(r.revoked_ms).toISOString() : undefined,
        // Absent: issued before tokens expired; valid until revoked.
        expiresAt: r.expires_ms ? new Date(r.expires_ms).toISOString() : undefined,
      }))
    },
  }
}
