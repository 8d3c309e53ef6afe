import http from 'node:http'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'
import { type Caller, call } from '../helpers/api-client.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'

// Requests without credentials are the one audited event anyone on the network can cause at will, and
// the audit trail is never pruned: they are recorded as the first one from each address plus one summary
// per address and minute (dashboard/denial-audit.ts), so a script cannot fill the disk with them.

let h: Harness
let admin: Caller

beforeAll(async () => {
  h = await startHarness({ only: ['dashboard'] })
  admin = {
    name: 'admin',
    cookie: await h.login('admin@example.org', await h.addUser('admin@example.org', 'admin')),
  }
})

afterAll(async () => {
  await h.close()
})

/** A GET without credentials from another loopback address (the server sees it as `req.ip`). */
function getFrom(localAddress: string, url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { localAddress }, (res) => {
        res.resume()
        resolve(res.statusCode ?? 0)
      })
      .on('error', reject)
  })
}

describe('audit of requests without credentials', () => {
  it('records the first from each address and summarises the rest per address, leaving other entries whole', async () => {
    const statuses: number[] = []
    for (let i = 0; i < 100; i++)
      statuses.push((await call(h.httpUrl, undefined, 'GET', '/api/patients')).status)
    for (let i = 0; i < 20; i++)
      statuses.push((await call(h.httpUrl, undefined, 'GET', '/api/alerts')).status)
    statuses.push(await getFrom('127.0.0.2', `${h.httpUrl}/api/patients`))
    // Every one of them is still refused; only the record of them is shorter.
    expect(new Set(statuses)).toEqual(new Set([401]))
    // A failed login names an account: always recorded in full.
    for (let i = 0; i < 3; i++)
      await call(h.httpUrl, undefined, 'POST', '/api/session', {
        email: 'admin@example.org',
        password: 'wrong',
      })

    const live = (await call(h.httpUrl, admin, 'GET', '/api/audit?actor=anonymous&limit=500')).body.entries
    expect(live.map((e: any) => `${e.ip} ${e.action} ${e.detail?.reason}`).sort()).toEqual([
      '127.0.0.1 access:GET /api/patients unauthenticated',
      '127.0.0.2 access:GET /api/patients unauthenticated',
    ])
    const logins = (await call(h.httpUrl, admin, 'GET', '/api/audit?action=login&limit=50')).body.entries
    expect(logins.filter((e: any) => e.outcome === 'failed')).toHaveLength(3)

    // At the end of the window (here: the server stops first) the rest become one entry per address.
    await h.running.close()
    const s = openEmbeddedStorage({
      dataDir: h.dataDir,
      dbPath: path.join(h.dataDir, 'vitalwire.db'),
      outbox: false,
    })
    try {
      const after = (await s.audit.list({ actor: 'anonymous', limit: 500 })) as any[]
      expect(after).toHaveLength(3)
      const summary = after.find((e) => e.action === 'access:repeated')
      expect(summary).toMatchObject({
        outcome: 'denied',
        ip: '127.0.0.1',
        detail: {
          reason: 'unauthenticated',
          repeats: 119,
          routes: ['access:GET /api/patients', 'access:GET /api/alerts'],
        },
      })
      expect(Date.parse(summary.detail.to)).toBeGreaterThanOrEqual(Date.parse(summary.detail.from))
    } finally {
      s.close()
    }
  })
})
