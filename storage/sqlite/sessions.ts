import type { Db } from './database.ts'

// Server-side session store in the shared SQLite file, in the callback shape @fastify/session expects.
// Sessions expire after the idle time; the cookie only carries the signed session id.

type Cb<T = void> = (err?: any, value?: T) => void

export function createSqliteSessionStore(db: Db, idleMs: number, now: () => number = Date.now) {
  const get = db.prepare('SELECT data, expires_ms FROM sessions WHERE sid = ?')
  const set = db.prepare(
    'INSERT INTO sessions (sid, data, expires_ms) VALUES (?, ?, ?) ON CONFLICT (sid) DO UPDATE SET data = excluded.data, expires_ms = excluded.expires_ms',
  )
  const del = db.prepare('DELETE FROM sessions WHERE sid = ?')
  const sweep = db.prepare('DELETE FROM sessions WHERE expires_ms < ?')
  return {
    get(sid: string, cb: Cb<any>) {
      const row = get.get(sid) as { data: string; expires_ms: number } | undefined
      if (!row || row.expires_ms < now()) return cb(null, null)
      cb(null, JSON.parse(row.data))
    },
    set(sid: string, session: any, cb: Cb) {
      set.run(sid, JSON.stringify(session), now() + idleMs)
      cb()
    },
    destroy(sid: string, cb: Cb) {
      del.run(sid)
      cb()
    },
    sweep() {
      sweep.run(now())
    },
  }
}
