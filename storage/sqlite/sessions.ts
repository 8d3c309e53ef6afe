import type { Db } from './database.ts'

// Server-side session store in the shared SQLite file, in the callback shape @fastify/session expects.
// Sessions expire after the idle time (each request pushes the expiry forward); the cookie only carries
// the signed session id.

type Cb<T = void> = (err?: any, value?: T) => void

export function createSqliteSessionStore(db: Db, idleMs: number, now: () => number = Date.now) {
  const get = db.prepare('SELECT data, expires_ms FROM sessions WHERE sid = ?')
  const set = db.prepare(
    'INSERT INTO sessions (sid, data, expires_ms) VALUES (?, ?, ?) ON CONFLICT (sid) DO UPDATE SET data = excluded.data, expires_ms = excluded.expires_ms',
  )
  const del = db.prepare('DELETE FROM sessions WHERE sid = ?')
  const sweep = db.prepare('DELETE FROM sessions WHERE expires_ms < ?')
  // Every request "touches" its session. A durable write per request costs an fsync, so a touch that
  // moves the expiry by less than this slack (and changes nothing else) is skipped: the idle timeout
  // is then exact to within the slack (10 s at the default 15 min).
  const slackMs = Math.min(10_000, idleMs / 50)
  // What a touch may skip writing is compared without the cookie: with rolling sessions its `expires`
  // moves on every request, so comparing it would write (and fsync) on every request after all.
  const written = new Map<string, { content: string; expiresMs: number }>()
  const contentOf = (session: any) => JSON.stringify({ ...session, cookie: undefined })
  return {
    get(sid: string, cb: Cb<any>) {
      const row = get.get(sid) as { data: string; expires_ms: number } | undefined
      if (!row || row.expires_ms < now()) return cb(null, null)
      cb(null, JSON.parse(row.data))
    },
    set(sid: string, session: any, cb: Cb) {
      const content = contentOf(session)
      const expiresMs = now() + idleMs
      const last = written.get(sid)
      if (last && last.content === content && expiresMs - last.expiresMs < slackMs) return cb()
      set.run(sid, JSON.stringify(session), expiresMs)
      written.set(sid, { content, expiresMs })
      cb()
    },
    destroy(sid: string, cb: Cb) {
      del.run(sid)
      written.delete(sid)
      cb()
    },
    sweep() {
      const t = now()
      sweep.run(t)
      for (const [sid, w] of written) if (w.expiresMs < t) written.delete(sid)
    },
  }
}
