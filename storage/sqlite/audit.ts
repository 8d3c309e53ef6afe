import { createHash } from 'node:crypto'
import fs from 'node:fs'
import type { AuditEntry } from '../ports.ts'
import { backgroundSyncWal, type Db, datasyncFile } from './database.ts'

// Append-only, tamper-evident audit log: each entry carries the hash of the previous one, so an edited,
// inserted or deleted entry breaks the chain at that point. Writes are queued and committed in batches
// off the caller's path, so auditing never slows ingest; the chain head is read inside the write
// transaction, so the CLI and the server can both append.
//
// The chain cannot see its own tail being cut off (the remaining prefix is a valid chain), so after each
// batch the head (seq + hash) is also written to an anchor file beside the database; verify() fails if
// the anchored entry is gone or changed. Operators should also copy the head off the machine (see
// docs/api.md): an attacker who controls both files can truncate and rewrite the anchor.
//
// Durability: a batch is durable when its WAL frames are synced. The batches committed by the timer (the
// server's steady state) commit without the sync (synchronous=NORMAL for that one transaction: the frames
// are written, safe from a process crash) and then fdatasync the WAL on libuv's thread pool, like the
// journal; the anchor is written when the sync is done. So the event loop never waits for the disk, and
// the window in which a power cut can lose an entry is as before: its batch window plus one sync.
// flush() (close, list, verify) commits and syncs before it returns, as before.

const GENESIS = '0'.repeat(64)
/** Longest an entry waits in memory before its batch is committed; close() flushes what is left. */
const BATCH_MS = 50
const MAX_BATCH = 1000
/** Distinct disclosed-patient lists remembered for `audit_patients` references (see `flush`). */
const MAX_DISCLOSURE_SETS = 64
/**
 * In audit_patients, a row keyed by this prefix and an entry's seq instead of a patient id means "disclosed
 * the same patients as that entry". Patient ids start with a letter or digit, so the keys cannot collide.
 */
const SAME_AS = '#'

type Row = {
  seq: number
  at_ms: number
  actor: string
  action: string
  outcome: string
  patient_id: string | null
  target: string | null
  ip: string | null
  detail: string | null
  prev_hash: string
  hash: string
}

/**
 * SHA-256 of JSON.stringify([prev, at_ms, actor, action, outcome, patient_id, target, ip, detail]), hashed
 * in two parts so that a detail's JSON string encoding (`detailJson`, 20 KB for a worklist read) can be
 * made once and reused.
 */
function entryHash(
  prev: string,
  r: Omit<Row, 'seq' | 'hash' | 'prev_hash'>,
  detailJson: string | Buffer = JSON.stringify(r.detail),
): string {
  const head = JSON.stringify([prev, r.at_ms, r.actor, r.action, r.outcome, r.patient_id, r.target, r.ip])
  return createHash('sha256')
    .update(head.slice(0, -1))
    .update(',')
    .update(detailJson)
    .update(']')
    .digest('hex')
}

/** An entry's detail as stored and as hashed, and the patients it discloses (see audit_patients). */
interface Described {
  detail: string | null
  detailJson?: Buffer
  patients: string[]
  /** The patients joined, the key of a list disclosed again; empty for fewer than two. */
  listKey: string
}

export type AuditLog = ReturnType<typeof createSqliteAuditLog>

type Anchor = { seq: number; hash: string; atMs: number }
type VerifyResult =
  | { ok: true; entries: number; head?: { seq: number; hash: string }; anchored: boolean }
  | { ok: false; entries: number; firstBadSeq: number; reason: string }

/** Where the head anchor lives: beside the database file (none for an in-memory database). */
export function anchorPath(db: Db): string | undefined {
  const file = db.location()
  return file ? `${file}.audit-head` : undefined
}

function readAnchor(file: string | undefined): Anchor | undefined {
  if (!file) return undefined
  try {
    const a = JSON.parse(fs.readFileSync(file, 'utf8'))
    return Number.isSafeInteger(a.seq) && typeof a.hash === 'string' ? a : undefined
  } catch {
    return undefined
  }
}

/**
 * Move the anchor to `a`. `hashAt` reads the log's entry at a position: the anchor moves only from an
 * entry that is still there unchanged. After a truncation, new entries reuse the deleted positions (a
 * rowid), and moving past them would hide the gap for good: the anchor stays, and verify keeps failing.
 */
function writeAnchor(file: string | undefined, a: Anchor, hashAt: (seq: number) => string | undefined) {
  if (!file) return
  // Never move the anchor backwards (the CLI and the server both append and both anchor).
  const current = readAnchor(file)
  if (current && current.seq >= a.seq) return
  if (current && hashAt(current.seq) !== current.hash) return
  const tmp = `${file}.${process.pid}.tmp`
  fs.writeFileSync(tmp, `${JSON.stringify(a)}\n`, { mode: 0o600 })
  fs.renameSync(tmp, file)
}

function datasyncNow(file: string) {
  let fd: number
  try {
    fd = fs.openSync(file, 'r')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return
    throw e
  }
  try {
    fs.fdatasyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

export function createSqliteAuditLog(db: Db, now: () => number = Date.now) {
  const anchorFile = anchorPath(db)
  const hashOf = db.prepare('SELECT hash FROM audit WHERE seq = ?')
  const hashAt = (seq: number) => (hashOf.get(seq) as { hash: string } | undefined)?.hash
  let queue: (Omit<Row, 'seq' | 'hash' | 'prev_hash' | 'detail'> & Described)[] = []
  // A caller that audits the same detail again and again (the worklist: 1,000 patient ids) passes it
  // frozen, with everything in it, and it is serialized once.
  const frozen = new WeakMap<object, Described>()
  function describe(detail: Record<string, unknown> | undefined): Described {
    if (!detail) return { detail: null, patients: [], listKey: '' }
    const known = frozen.get(detail)
    if (known) return known
    const p = detail.patients
    const patients = Array.isArray(p) ? p.filter((x): x is string => typeof x === 'string') : []
    const d: Described = {
      detail: JSON.stringify(detail),
      patients,
      listKey: patients.length > 1 ? patients.join('\n') : '',
    }
    if (Object.isFrozen(detail)) {
      d.detailJson = Buffer.from(JSON.stringify(d.detail))
      frozen.set(detail, d)
    }
    return d
  }
  let timer: NodeJS.Timeout | undefined
  const head = db.prepare('SELECT hash FROM audit ORDER BY seq DESC LIMIT 1')
  const insert = db.prepare(
    'INSERT INTO audit (at_ms, actor, action, outcome, patient_id, target, ip, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
  )
  const disclosed = db.prepare('INSERT OR IGNORE INTO audit_patients (patient_id, seq) VALUES (?, ?)')
  // A worklist read discloses the same 1,000 patients every time. Indexing each read under every patient
  // costs 1,000 B-tree inserts into 1,000 different pages (and writing those pages at commit) per request;
  // instead the first read of a list is indexed in full and later reads of the same list (this process
  // remembers which) get one row pointing at it. list() follows the pointers.
  const disclosureSets = new Map<string, number>()
  // Syncing the WAL off the event loop needs a WAL file and a connection that would otherwise sync on
  // commit (FULL or EXTRA); an in-memory database, or one already at NORMAL or OFF, keeps its setting.
  const bg = anchorFile ? backgroundSyncWal(db) : undefined
  /** The newest head committed by the timer and not yet known to be synced (the sync may be running). */
  let unsynced: Anchor | undefined
  /** The head whose sync or anchor write is running. */
  let inFlight: Anchor | undefined
  /** The newest head this log anchored. */
  let anchored: Anchor | undefined

  async function syncInBackground() {
    try {
      while (unsynced) {
        const a = unsynced
        inFlight = a
        // One sync covers every batch committed before it started.
        await datasyncFile(bg!.wal)
        if (unsynced === a) unsynced = undefined
        // flush() (close, list, verify) may meanwhile have synced and anchored this head or a newer one.
        // The anchor itself is one small file written at once, so it never races with flush()'s.
        if (!anchored || anchored.seq < a.seq) {
          writeAnchor(anchorFile, a, hashAt)
          anchored = a
        }
      }
    } finally {
      inFlight = undefined
    }
  }

  /** Commit the queue; `durable`: sync (and anchor) before returning, else sync in the background. */
  function commit(durable: boolean) {
    clearTimeout(timer)
    timer = undefined
    const batch = queue
    queue = []
    if (batch.length === 0) {
      // Nothing to commit, but a durable flush still owes the sync and anchor of what the timer committed.
      const owed = unsynced ?? inFlight
      if (durable && owed) {
        datasyncNow(bg!.wal)
        anchorNow(owed)
      }
      return
    }
    let last: Anchor | undefined
    const newSets: string[] = []
    const background = !durable && bg !== undefined
    if (background) db.exec('PRAGMA synchronous = NORMAL')
    db.exec('BEGIN IMMEDIATE')
    try {
      let prev = (head.get() as { hash: string } | undefined)?.hash ?? GENESIS
      for (const r of batch) {
        const hash = entryHash(prev, r, r.detailJson)
        const res = insert.run(
          r.at_ms,
          r.actor,
          r.action,
          r.outcome,
          r.patient_id,
          r.target,
          r.ip,
          r.detail,
          prev,
          hash,
        )
        last = { seq: Number(res.lastInsertRowid), hash, atMs: r.at_ms }
        if (r.listKey) {
          const key = r.listKey
          const same = disclosureSets.get(key)
          if (same !== undefined) disclosed.run(`${SAME_AS}${same}`, last.seq)
          else {
            for (const p of r.patients) disclosed.run(p, last.seq)
            if (disclosureSets.size >= MAX_DISCLOSURE_SETS) disclosureSets.clear()
            disclosureSets.set(key, last.seq)
            newSets.push(key)
          }
        } else if (r.patients.length === 1) disclosed.run(r.patients[0], last.seq)
        prev = hash
      }
      db.exec('COMMIT')
    } catch (e) {
      db.exec('ROLLBACK')
      // Only lists indexed in full by a committed transaction may be pointed at.
      for (const key of newSets) disclosureSets.delete(key)
      throw e
    } finally {
      if (background) db.exec(`PRAGMA synchronous = ${bg!.synchronous}`)
    }
    if (background) {
      if (last) unsynced = last
      // A failed sync rejects unhandled and stops the process, as a failed commit in the timer does.
      if (unsynced && !inFlight) void syncInBackground()
      return
    }
    // This commit synced the WAL (FULL), which covers the batches committed before it without a sync.
    if (last) anchorNow(last)
  }
  function anchorNow(a: Anchor) {
    unsynced = undefined
    writeAnchor(anchorFile, a, hashAt)
    if (!anchored || anchored.seq < a.seq) anchored = a
  }
  const flush = () => commit(true)
  return {
    append(e: AuditEntry): void {
      queue.push({
        at_ms: now(),
        actor: e.actor,
        action: e.action,
        outcome: e.outcome,
        patient_id: e.patientId ?? null,
        target: e.target ?? null,
        ip: e.ip ?? null,
        // With the patients a multi-patient read disclosed (detail.patients), for audit_patients.
        ...describe(e.detail),
      })
      // One durable commit per window rather than per entry: node:sqlite is synchronous, so each commit
      // (an fsync) holds the event loop that also runs ingest. Reads (list, verify) flush first.
      if (!timer || queue.length === MAX_BATCH) {
        clearTimeout(timer)
        timer = setTimeout(() => commit(false), queue.length >= MAX_BATCH ? 0 : BATCH_MS)
        timer.unref()
      }
    },
    flush,
    /** Check the whole chain and the anchored head; names the first entry that does not fit. */
    verify(): VerifyResult {
      flush()
      let prev = GENESIS
      let n = 0
      let lastSeq = 0
      const anchor = readAnchor(anchorFile)
      let anchorHash: string | undefined
      for (const r of db.prepare('SELECT * FROM audit ORDER BY seq').iterate() as Iterable<Row>) {
        n++
        if (r.prev_hash !== prev) {
          return {
            ok: false,
            entries: n,
            firstBadSeq: r.seq,
            reason: 'previous-hash link broken (an entry before it was deleted or inserted)',
          }
        }
        if (entryHash(prev, r) !== r.hash) {
          return {
            ok: false,
            entries: n,
            firstBadSeq: r.seq,
            reason: 'content does not match its hash (entry edited)',
          }
        }
        prev = r.hash
        lastSeq = r.seq
        if (anchor && r.seq === anchor.seq) anchorHash = r.hash
      }
      if (anchor && anchorHash === undefined) {
        return {
          ok: false,
          entries: n,
          firstBadSeq: lastSeq + 1,
          reason: `entries missing at the end: the anchored head (entry ${anchor.seq}) is gone (log truncated)`,
        }
      }
      if (anchor && anchorHash !== anchor.hash) {
        return {
          ok: false,
          entries: n,
          firstBadSeq: anchor.seq,
          reason: 'the anchored head entry was rewritten (its hash differs from the anchor)',
        }
      }
      return {
        ok: true,
        entries: n,
        head: n ? { seq: lastSeq, hash: prev } : undefined,
        anchored: anchor !== undefined,
      }
    },
    async list(q: {
      patientId?: string
      actor?: string
      action?: string
      beforeSeq?: number
      limit: number
    }) {
      flush()
      const clauses: string[] = []
      const params: (string | number)[] = []
      if (q.patientId) {
        // Entries about this patient, and reads that disclosed it among others (worklist, FHIR search),
        // directly or by pointing at an entry that disclosed the same patients.
        clauses.push(
          `(patient_id = ? OR seq IN (SELECT seq FROM audit_patients WHERE patient_id = ? UNION ALL
            SELECT same.seq FROM audit_patients d
            JOIN audit_patients same ON same.patient_id = '${SAME_AS}' || d.seq WHERE d.patient_id = ?))`,
        )
        params.push(q.patientId, q.patientId, q.patientId)
      }
      if (q.actor) {
        clauses.push('actor = ?')
        params.push(q.actor)
      }
      if (q.action) {
        clauses.push('action = ?')
        params.push(q.action)
      }
      if (q.beforeSeq) {
        clauses.push('seq < ?')
        params.push(q.beforeSeq)
      }
      const sql = `SELECT * FROM audit ${clauses.length ? `WHERE ${clauses.join(' AND ')}` : ''} ORDER BY seq DESC LIMIT ?`
      return (db.prepare(sql).all(...params, q.limit) as Row[]).map((r) => ({
        seq: r.seq,
        at: new Date(r.at_ms).toISOString(),
        actor: r.actor,
        action: r.action,
        outcome: r.outcome,
        patientId: r.patient_id ?? undefined,
        target: r.target ?? undefined,
        ip: r.ip ?? undefined,
        detail: r.detail ? JSON.parse(r.detail) : undefined,
        hash: r.hash,
      }))
    },
  }
}
