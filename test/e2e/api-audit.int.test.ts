import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'
import { alertFixture } from '../contract/fixtures.ts'
import { type Caller, call, eventually } from '../helpers/api-client.ts'
import { type Harness, startHarness, tempDir } from '../helpers/harness.ts'

// The audit trail (45 CFR 164.312(b)): who, what, which patient, when, from where; GET /api/audit for
// admins; `vitalwire audit verify` run as a child process against a database tampered with directly.

const CLI = path.join(import.meta.dirname, '..', '..', 'cli', 'vitalwire.ts')
let h: Harness
let dataDir: string
const made: string[] = []
const who = {} as Record<'admin' | 'coord' | 'outsider', Caller>

beforeAll(async () => {
  h = await startHarness({ only: ['dashboard'] })
  dataDir = h.dataDir
  await h.enrollPatient('p1')
  await h.enrollPatient('p2')
  who.admin = {
    name: 'admin',
    cookie: await h.login('admin@example.org', await h.addUser('admin@example.org', 'admin')),
  }
  who.coord = {
    name: 'c',
    cookie: await h.login('c@example.org', await h.addUser('c@example.org', 'coordinator', ['p1'])),
  }
  who.outsider = {
    name: 'o',
    cookie: await h.login('o@example.org', await h.addUser('o@example.org', 'coordinator', ['p2'])),
  }
  await call(h.httpUrl, who.coord, 'GET', '/api/patients/p1')
  await call(h.httpUrl, who.outsider, 'GET', '/api/patients/p1')
  await call(h.httpUrl, who.coord, 'GET', '/fhir/r4/Patient/p1')
  await call(h.httpUrl, undefined, 'POST', '/api/session', { email: 'c@example.org', password: 'wrong' })
})

afterAll(async () => {
  for (const d of made) fs.rmSync(d, { recursive: true, force: true })
  await h.close()
})

describe('audit trail', () => {
  it('records reads, denials and logins with actor, patient, time and address; admins filter them', async () => {
    await eventually(
      async () => (await call(h.httpUrl, who.admin, 'GET', '/api/audit?patient=p1')).body.entries.length >= 3,
    )
    const { entries } = (await call(h.httpUrl, who.admin, 'GET', '/api/audit?patient=p1')).body
    expect(entries.every((e: any) => e.patientId === 'p1' || e.detail?.patients?.includes('p1'))).toBe(true)
    const summary = entries.map((e: any) => `${e.actor} ${e.action} ${e.outcome}`)
    expect(summary).toEqual(
      expect.arrayContaining([
        'c@example.org patient.read ok',
        'o@example.org patient.read denied',
        'c@example.org fhir.Patient.read ok',
      ]),
    )
    for (const e of entries) {
      expect(e.ip).toBe('127.0.0.1')
      expect(Date.parse(e.at)).toBeGreaterThan(Date.now() - 60_000)
    }
    const logins = (await call(h.httpUrl, who.admin, 'GET', '/api/audit?action=login&actor=c@example.org'))
      .body.entries
    expect(logins.map((e: any) => e.outcome).sort()).toEqual(['failed', 'ok'])
    // Paging: newest first, `before` continues below the last seq seen.
    const page1 = (await call(h.httpUrl, who.admin, 'GET', '/api/audit?limit=2')).body.entries
    const page2 = (await call(h.httpUrl, who.admin, 'GET', `/api/audit?limit=2&before=${page1[1].seq}`)).body
      .entries
    expect(page2[0].seq).toBeLessThan(page1[1].seq)
    expect((await call(h.httpUrl, who.coord, 'GET', '/api/audit')).status).toBe(403)
  })

  it('finds a patient in reads that disclosed several patients (worklist, FHIR search)', async () => {
    await call(h.httpUrl, who.outsider, 'GET', '/api/patients')
    await call(h.httpUrl, who.admin, 'GET', '/api/patients')
    const actions = async (patient: string) =>
      (
        (await call(h.httpUrl, who.admin, 'GET', `/api/audit?patient=${patient}&action=patients.list`)).body
          .entries as any[]
      ).map((e) => e.actor)
    // The admin's worklist showed both patients, the outsider's only p2.
    await eventually(async () => (await actions('p2')).length >= 2)
    expect((await actions('p2')).sort()).toEqual(['admin@example.org', 'o@example.org'])
    expect(await actions('p1')).toEqual(['admin@example.org'])
  })

  it('finds a patient in the alert and device lists that disclosed them', async () => {
    await h.enrollDevice('d1', 'p1')
    const s = openEmbeddedStorage({ dataDir, dbPath: path.join(dataDir, 'vitalwire.db'), outbox: false })
    await s.alerts.insert(alertFixture({ id: 'a1', patientId: 'p1', rule: 'hr-high', severity: 'high' }))
    s.close()
    expect((await call(h.httpUrl, who.coord, 'GET', '/api/alerts')).body.alerts).toHaveLength(1)
    expect((await call(h.httpUrl, who.coord, 'GET', '/api/devices')).body.devices).toHaveLength(1)
    const reads = async () =>
      (
        (await call(h.httpUrl, who.admin, 'GET', '/api/audit?patient=p1&actor=c@example.org')).body
          .entries as any[]
      )
        .map((e) => e.action)
        .filter((a) => a === 'alerts.list' || a === 'devices.list')
    await eventually(async () => (await reads()).length >= 2)
    expect((await reads()).sort()).toEqual(['alerts.list', 'devices.list'])
  })

  it('records a WebSocket connection in the trail of each patient whose data it will push', async () => {
    const ws = new WebSocket(`${h.httpUrl.replace(/^http/, 'ws')}/ws`, {
      headers: { cookie: who.coord.cookie! },
    })
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))
    ws.close()
    const connects = async (patient: string) =>
      (
        (await call(h.httpUrl, who.admin, 'GET', `/api/audit?patient=${patient}&actor=c@example.org`)).body
          .entries as any[]
      ).filter((e) => e.action === 'ws.connect')
    await eventually(async () => (await connects('p1')).length > 0)
    expect((await connects('p1'))[0].detail).toEqual({ patients: ['p1'] })
    expect(await connects('p2')).toEqual([])
  })

  it("puts probes of a patient out of reach in that patient's own trail", async () => {
    await h.enrollDevice('d2', 'p1')
    const s = openEmbeddedStorage({ dataDir, dbPath: path.join(dataDir, 'vitalwire.db'), outbox: false })
    await s.alerts.insert(alertFixture({ id: 'a2', patientId: 'p1', rule: 'rr-high', severity: 'high' }))
    s.close()
    // The outsider (p2's team) asks for p1 by id, p1's device, and acts on p1's alert: all 404.
    for (const [method, url] of [
      ['GET', '/fhir/r4/Patient/p1'],
      ['GET', '/fhir/r4/Device/d2'],
      ['POST', '/api/alerts/a2/ack'],
      ['PATCH', '/api/patients/p1'],
    ]) {
      const r = await call(
        h.httpUrl,
        who.outsider,
        method,
        url,
        method === 'PATCH' ? { monitoring: false } : undefined,
      )
      expect(r.status, url).toBe(method === 'PATCH' ? 403 : 404)
    }
    const probes = async () =>
      (
        (await call(h.httpUrl, who.admin, 'GET', '/api/audit?patient=p1&actor=o@example.org')).body
          .entries as any[]
      )
        .filter((e) => e.outcome === 'denied')
        .map((e) => e.action)
    await eventually(async () => (await probes()).length >= 5)
    expect(await probes()).toEqual(
      expect.arrayContaining([
        'fhir.Patient.read',
        'fhir.Device.read',
        'alert.ack',
        'access:PATCH /api/patients/:id',
      ]),
    )
  })
})

async function verify(dir: string) {
  const child = spawn(process.execPath, [CLI, 'audit', 'verify', '--json'], {
    env: { ...process.env, VITALWIRE_DATA_DIR: dir, VITALWIRE_LOG_LEVEL: 'silent' },
  })
  let stdout = ''
  child.stdout.on('data', (c) => (stdout += c))
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return { code, out: JSON.parse(stdout.trim().split('\n').pop()!) }
}

/** A copy of the stopped server's data dir, tampered with through SQL directly on the file. */
function tampered(sql: (db: DatabaseSync, last: number) => void): string {
  const dir = tempDir('vitalwire-tamper-')
  made.push(dir)
  fs.cpSync(dataDir, dir, { recursive: true })
  const db = new DatabaseSync(path.join(dir, 'vitalwire.db'))
  sql(db, (db.prepare('SELECT MAX(seq) AS n FROM audit').get() as any).n)
  db.close()
  return dir
}

const hashOf = (prev: string, r: any) =>
  createHash('sha256')
    .update(
      JSON.stringify([prev, r.at_ms, r.actor, r.action, r.outcome, r.patient_id, r.target, r.ip, r.detail]),
    )
    .digest('hex')

describe('vitalwire audit verify', () => {
  it('passes an untouched log and names the first bad entry after each kind of tampering', {
    timeout: 300_000,
  }, async () => {
    await h.running.close() // the harness removes the dir in afterAll; the server must not write meanwhile
    const clean = await verify(dataDir)
    expect(clean.code).toBe(0)
    expect(clean.out).toMatchObject({ ok: true, anchored: true })
    const n = clean.out.entries as number
    expect(n).toBeGreaterThan(8)

    const editedP = verify(tampered((db) => db.exec("UPDATE audit SET actor = 'someone-else' WHERE seq = 5")))
    const deletedP = verify(tampered((db) => db.exec('DELETE FROM audit WHERE seq = 5')))
    const insertedP = verify(
      tampered((db, last) => {
        for (let s = last; s >= 5; s--) db.exec(`UPDATE audit SET seq = ${s + 1} WHERE seq = ${s}`)
        const prev = (db.prepare('SELECT hash FROM audit WHERE seq = 4').get() as any).hash
        const forged = {
          at_ms: Date.now(),
          actor: 'c@example.org',
          action: 'login',
          outcome: 'ok',
          patient_id: null,
          target: null,
          ip: '10.0.0.1',
          detail: null,
        }
        db.prepare(
          'INSERT INTO audit (seq, at_ms, actor, action, outcome, patient_id, target, ip, detail, prev_hash, hash) VALUES (5, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
        ).run(
          forged.at_ms,
          forged.actor,
          forged.action,
          forged.outcome,
          null,
          null,
          forged.ip,
          null,
          prev,
          hashOf(prev, forged),
        )
      }),
    )
    const appendedP = verify(
      tampered((db, last) =>
        db.exec(
          `INSERT INTO audit (at_ms, actor, action, outcome, prev_hash, hash) VALUES (1, 'x', 'login', 'ok', (SELECT hash FROM audit WHERE seq = ${last}), '${'f'.repeat(64)}')`,
        ),
      ),
    )
    const truncatedP = verify(tampered((db, last) => db.exec(`DELETE FROM audit WHERE seq > ${last - 3}`)))
    const edited = await editedP
    expect(edited.code).toBe(1)
    expect(edited.out).toMatchObject({ ok: false, firstBadSeq: 5 })
    expect(edited.out.reason).toMatch(/edited/)

    const deleted = await deletedP
    expect(deleted.out).toMatchObject({ ok: false, firstBadSeq: 6 })
    expect(deleted.out.reason).toMatch(/deleted or inserted/)

    // A forged entry slipped in after entry 4, with a correctly computed hash (the algorithm is public):
    // the entry after it still points at entry 4's hash.
    const inserted = await insertedP
    expect(inserted.out).toMatchObject({ ok: false, firstBadSeq: 6 })

    const appended = await appendedP
    expect(appended.out).toMatchObject({ ok: false, firstBadSeq: n + 1 })

    // Cutting off the tail leaves a valid chain; the head anchor catches it.
    const truncated = await truncatedP
    expect(truncated.code).toBe(1)
    expect(truncated.out).toMatchObject({ ok: false, firstBadSeq: n - 2 })
    expect(truncated.out.reason).toMatch(/truncated/)

    // Documented limit: whoever can also delete the anchor file can truncate undetected; verify says so.
    const dir = tampered((db, last) => db.exec(`DELETE FROM audit WHERE seq > ${last - 3}`))
    fs.rmSync(path.join(dir, 'vitalwire.db.audit-head'))
    expect((await verify(dir)).out).toMatchObject({ ok: true, anchored: false })
  })
})
