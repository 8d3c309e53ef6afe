import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import type { Db } from './database.ts'

// API tokens for machine clients: `vwt_<id>_<secret>`, shown once. Only a SHA-256 of the secret is
// stored: the secret is 256 random bits, so a slow hash adds cost per request and no safety.

export type TokenStore = ReturnType<typeof createSqliteTokenStore>

const digest = (s: string) => createHash('sha256').update(s).digest()

export function createSqliteTokenStore(db: Db, now: () => number = Date.now) {
  // Checked on every machine request: prepared once.
  const byId = db.prepare('SELECT user_id, token_hash, revoked_ms FROM api_tokens WHERE id = ?')
  return {
    async create(userId: number, label: string): Promise<{ id: string; token: string }> {
      const id = randomBytes(6).toString('hex')
      const secret = randomBytes(32).toString('base64url')
      db.prepare(
        'INSERT INTO api_tokens (id, user_id, token_hash, label, created_ms) VALUES (?, ?, ?, ?, ?)',
      ).run(id, userId, digest(secret).toString('hex'), label, now())
      return { id, token: `vwt_${id}_${secret}` }
    },
    async verify(token: string): Promise<number | undefined> {
      const m = /^vwt_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(token)
      if (!m) return undefined
      const row = byId.get(m[1]) as
        | { user_id: number; token_hash: string; revoked_ms: number | null }
        | undefined
      if (!row || row.revoked_ms !== null) return undefined
      return timingSafeEqual(Buffer.from(row.token_hash, 'hex'), digest(m[2])) ? row.user_id : undefined
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
          .prepare('SELECT id, user_id, label, created_ms, revoked_ms FROM api_tokens ORDER BY created_ms')
          .all() as any[]
      ).map((r) => ({
        id: r.id,
        userId: r.user_id,
        label: r.label,
        createdAt: new Date(r.created_ms).toISOString(),
        revokedAt: r.revoked_ms ? new Date(r.revoked_ms).toISOString() : undefined,
      }))
    },
  }
}
