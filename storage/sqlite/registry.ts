import type { FieldCipher } from '../../shared/data-key.ts'
import { VitalwireError } from '../../shared/errors.ts'
import type { Device, Patient, Role, User } from '../ports.ts'
import type { Db } from './database.ts'

// Patients, devices, users and care teams. Patient identity fields are sealed with the data key.

export interface RegistryEvent {
  id: number
  kind: 'device-added' | 'device-revoked' | 'patient-added' | 'patient-changed' | 'user-changed'
  subject: string
  atMs: number
}

export type Registry = ReturnType<typeof createSqliteRegistry>

type Row = Record<string, any>

function toDevice(r: Row): Device {
  return {
    id: r.id,
    patientId: r.patient_id,
    type: r.type,
    auth: r.auth,
    secretHash: r.secret_hash ?? undefined,
    certFingerprint: r.cert_fingerprint ?? undefined,
    certNotAfterMs: r.cert_not_after_ms ?? undefined,
    revokedMs: r.revoked_ms ?? undefined,
    createdMs: r.created_ms,
    lastSeenMs: r.last_seen_ms ?? undefined,
    connected: r.connected === 1,
    battery: r.battery ?? undefined,
    firmware: r.firmware ?? undefined,
  }
}

function toUser(r: Row): User {
  return {
    id: r.id,
    email: r.email,
    role: r.role,
    passwordHash: r.password_hash,
    mustChangePassword: r.must_change_password === 1,
    disabledMs: r.disabled_ms ?? undefined,
    failedLogins: r.failed_logins,
    lockedUntilMs: r.locked_until_ms ?? undefined,
    createdMs: r.created_ms,
  }
}

export function createSqliteRegistry(db: Db, cipher: FieldCipher, now: () => number = Date.now) {
  // A sealed value always opens to the same plaintext, so opened values are remembered: the worklist
  // lists every patient on every request.
  const opened = new Map<string, string>()
  const open = (sealed: string) => {
    let plain = opened.get(sealed)
    if (plain === undefined) {
      if (opened.size >= 50_000) opened.clear()
      plain = cipher.decrypt(sealed)
      opened.set(sealed, plain)
    }
    return plain
  }
  const toPatient = (r: Row): Patient => ({
    id: r.id,
    name: open(r.name_enc),
    birthDate: r.birth_date_enc ? open(r.birth_date_enc) : undefined,
    monitoring: r.monitoring === 1,
    ...(r.monitoring_since_ms != null ? { monitoringSinceMs: r.monitoring_since_ms } : {}),
    flags: JSON.parse(r.flags),
    createdMs: r.created_ms,
  })
  const event = db.prepare('INSERT INTO registry_events (kind, subject, at_ms) VALUES (?, ?, ?)')
  const emit = (kind: RegistryEvent['kind'], subject: string) => event.run(kind, subject, now())
  const unique = (fn: () => void, what: string) => {
    try {
      fn()
    } catch (e: any) {
      if (String(e.message).includes('UNIQUE') || String(e.message).includes('PRIMARY KEY')) {
        throw new VitalwireError('VW_ERR_CONFLICT', `${what} already exists`, { cause: e })
      }
      if (String(e.message).includes('FOREIGN KEY')) {
        throw new VitalwireError('VW_ERR_NOT_FOUND', `${what}: referenced record does not exist`, {
          cause: e,
        })
      }
      throw e
    }
  }
  const stmts = {
    patient: db.prepare('SELECT * FROM patients WHERE id = ?'),
    patients: db.prepare('SELECT * FROM patients ORDER BY id'),
    device: db.prepare('SELECT * FROM devices WHERE id = ?'),
    devices: db.prepare('SELECT * FROM devices ORDER BY id'),
    devicesOf: db.prepare('SELECT * FROM devices WHERE patient_id = ? ORDER BY id'),
    userByEmail: db.prepare('SELECT * FROM users WHERE email = ?'),
    user: db.prepare('SELECT * FROM users WHERE id = ?'),
    users: db.prepare('SELECT * FROM users ORDER BY id'),
    team: db.prepare('SELECT patient_id FROM care_team WHERE user_id = ? ORDER BY patient_id'),
    viewers: db.prepare('SELECT user_id FROM care_team WHERE patient_id = ?'),
    eventsSince: db.prepare(
      'SELECT id, kind, subject, at_ms FROM registry_events WHERE id > ? ORDER BY id LIMIT 1000',
    ),
    lastEvent: db.prepare('SELECT COALESCE(MAX(id), 0) AS id FROM registry_events'),
  }

  return {
    async addPatient(p: {
      id: string
      name: string
      birthDate?: string
      flags?: Patient['flags']
    }): Promise<Patient> {
      unique(() => {
        db.prepare(
          'INSERT INTO patients (id, name_enc, birth_date_enc, flags, created_ms) VALUES (?, ?, ?, ?, ?)',
        ).run(
          p.id,
          cipher.encrypt(p.name),
          p.birthDate ? cipher.encrypt(p.birthDate) : null,
          JSON.stringify(p.flags ?? {}),
          now(),
        )
        emit('patient-added', p.id)
      }, `patient ${p.id}`)
      return (await this.getPatient(p.id))!
    },
    async getPatient(id: string): Promise<Patient | undefined> {
      const r = stmts.patient.get(id) as Row | undefined
      return r ? toPatient(r) : undefined
    },
    async listPatients(ids?: string[]): Promise<Patient[]> {
      const rows = stmts.patients.all() as Row[]
      const allow = ids ? new Set(ids) : undefined
      return rows.filter((r) => !allow || allow.has(r.id)).map(toPatient)
    },
    async setMonitoring(id: string, monitoring: boolean): Promise<void> {
      // Resuming a paused patient records when: silence counts from then (alerts/scheduled.ts).
      const r = db
        .prepare(
          `UPDATE patients SET monitoring = ?1,
             monitoring_since_ms = CASE WHEN ?1 = 1 AND monitoring = 0 THEN ?2 ELSE monitoring_since_ms END
           WHERE id = ?3`,
        )
        .run(monitoring ? 1 : 0, now(), id)
      if (r.changes === 0) throw new VitalwireError('VW_ERR_NOT_FOUND', `patient ${id} not found`)
      emit('patient-changed', id)
    },
    async setPatientFlags(id: string, flags: Patient['flags']): Promise<void> {
      const r = db.prepare('UPDATE patients SET flags = ? WHERE id = ?').run(JSON.stringify(flags), id)
      if (r.changes === 0) throw new VitalwireError('VW_ERR_NOT_FOUND', `patient ${id} not found`)
      emit('patient-changed', id)
    },

    async addDevice(d: Omit<Device, 'createdMs' | 'connected'>): Promise<Device> {
      unique(() => {
        db.prepare(
          `INSERT INTO devices (id, patient_id, type, auth, secret_hash, cert_fingerprint, cert_not_after_ms, created_ms)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          d.id,
          d.patientId,
          d.type,
          d.auth,
          d.secretHash ?? null,
          d.certFingerprint ?? null,
          d.certNotAfterMs ?? null,
          now(),
        )
        emit('device-added', d.id)
      }, `device ${d.id}`)
      return (await this.getDevice(d.id))!
    },
    async getDevice(id: string): Promise<Device | undefined> {
      const r = stmts.device.get(id) as Row | undefined
      return r ? toDevice(r) : undefined
    },
    async listDevices(patientId?: string): Promise<Device[]> {
      return ((patientId ? stmts.devicesOf.all(patientId) : stmts.devices.all()) as Row[]).map(toDevice)
    },
    async revokeDevice(id: string): Promise<Device> {
      const r = db
        .prepare('UPDATE devices SET revoked_ms = COALESCE(revoked_ms, ?) WHERE id = ?')
        .run(now(), id)
      if (r.changes === 0) throw new VitalwireError('VW_ERR_NOT_FOUND', `device ${id} not found`)
      emit('device-revoked', id)
      return (await this.getDevice(id))!
    },
    async updateDeviceStatus(
      id: string,
      s: { connected?: boolean; lastSeenMs?: number; battery?: number; firmware?: string },
    ) {
      await this.updateDeviceStatuses([{ id, ...s }])
    },
    /** Many status changes in one transaction: one fsync for a whole reconnect storm, not one each. */
    async updateDeviceStatuses(
      list: { id: string; connected?: boolean; lastSeenMs?: number; battery?: number; firmware?: string }[],
    ) {
      if (list.length === 0) return
      const update = db.prepare(
        `UPDATE devices SET connected = COALESCE(?, connected), last_seen_ms = MAX(COALESCE(last_seen_ms, 0), COALESCE(?, 0)),
         battery = COALESCE(?, battery), firmware = COALESCE(?, firmware) WHERE id = ?`,
      )
      db.exec('BEGIN IMMEDIATE')
      try {
        for (const s of list) {
          update.run(
            s.connected === undefined ? null : s.connected ? 1 : 0,
            s.lastSeenMs ?? null,
            s.battery ?? null,
            s.firmware ?? null,
            s.id,
          )
        }
        db.exec('COMMIT')
      } catch (e) {
        db.exec('ROLLBACK')
        throw e
      }
    },

    async addUser(u: {
      email: string
      role: Role
      passwordHash: string
      patients?: string[]
    }): Promise<User> {
      let id = 0
      unique(() => {
        db.exec('BEGIN IMMEDIATE')
        try {
          const r = db
            .prepare('INSERT INTO users (email, role, password_hash, created_ms) VALUES (?, ?, ?, ?)')
            .run(u.email, u.role, u.passwordHash, now())
          id = Number(r.lastInsertRowid)
          const add = db.prepare('INSERT INTO care_team (user_id, patient_id) VALUES (?, ?)')
          for (const p of u.patients ?? []) add.run(id, p)
          emit('user-changed', String(id))
          db.exec('COMMIT')
        } catch (e) {
          db.exec('ROLLBACK')
          throw e
        }
      }, `user ${u.email}`)
      return toUser(stmts.user.get(id) as Row)
    },
    async getUserByEmail(email: string): Promise<User | undefined> {
      const r = stmts.userByEmail.get(email) as Row | undefined
      return r ? toUser(r) : undefined
    },
    async getUser(id: number): Promise<User | undefined> {
      const r = stmts.user.get(id) as Row | undefined
      return r ? toUser(r) : undefined
    },
    async listUsers(): Promise<User[]> {
      return (stmts.users.all() as Row[]).map(toUser)
    },
    async setCareTeam(userId: number, patients: string[]): Promise<void> {
      unique(() => {
        db.exec('BEGIN IMMEDIATE')
        try {
          db.prepare('DELETE FROM care_team WHERE user_id = ?').run(userId)
          const add = db.prepare('INSERT INTO care_team (user_id, patient_id) VALUES (?, ?)')
          for (const p of patients) add.run(userId, p)
          emit('user-changed', String(userId))
          db.exec('COMMIT')
        } catch (e) {
          db.exec('ROLLBACK')
          throw e
        }
      }, 'care team')
    },
    /** Patients a coordinator or clinician may see (admins see all: callers handle that). */
    async careTeamOf(userId: number): Promise<string[]> {
      return (stmts.team.all(userId) as Row[]).map((r) => r.patient_id)
    },
    async viewersOf(patientId: string): Promise<number[]> {
      return (stmts.viewers.all(patientId) as Row[]).map((r) => r.user_id)
    },
    async recordLogin(userId: number, ok: boolean, lockAfter: number, lockMs: number): Promise<void> {
      if (ok) {
        db.prepare('UPDATE users SET failed_logins = 0, locked_until_ms = NULL WHERE id = ?').run(userId)
        return
      }
      // A lock that has run out starts the count again (else one wrong attempt every 15 minutes would
      // keep the account locked for good). SET expressions all read the row as it was.
      const t = now()
      db.prepare(
        `UPDATE users SET
           failed_logins = CASE WHEN locked_until_ms <= :t THEN 1 ELSE failed_logins + 1 END,
           locked_until_ms = CASE
             WHEN (CASE WHEN locked_until_ms <= :t THEN 1 ELSE failed_logins + 1 END) >= :lockAfter THEN :until
             WHEN locked_until_ms <= :t THEN NULL
             ELSE locked_until_ms END
         WHERE id = :id`,
      ).run({ t, lockAfter, until: t + lockMs, id: userId })
    },
    /** Disable (at `disabledMs`) or enable (undefined) a user; their sessions and tokens stop at once. */
    async setUserDisabled(userId: number, disabledMs: number | undefined): Promise<void> {
      db.prepare('UPDATE users SET disabled_ms = ? WHERE id = ?').run(disabledMs ?? null, userId)
      emit('user-changed', String(userId))
    },
    async setPassword(userId: number, passwordHash: string, mustChange: boolean): Promise<void> {
      db.prepare('UPDATE users SET password_hash = ?, must_change_password = ? WHERE id = ?').run(
        passwordHash,
        mustChange ? 1 : 0,
        userId,
      )
      emit('user-changed', String(userId))
    },

    eventsSince(id: number): RegistryEvent[] {
      return (stmts.eventsSince.all(id) as Row[]).map((r) => ({
        id: r.id,
        kind: r.kind,
        subject: r.subject,
        atMs: r.at_ms,
      }))
    },
    lastEventId(): number {
      return (stmts.lastEvent.get() as Row).id
    },
  }
}
