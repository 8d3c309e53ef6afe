// Storage ports: asynchronous even where SQLite is synchronous, so a networked adapter fits later
// without changing callers. Components depend on these, never on an adapter.
import type { VitalType } from '../shared/catalog.ts'
import type { StoredObservation } from '../shared/fhir.ts'

export type StepCounts = 'daily' | 'interval'

export interface ReadingQuery {
  /** Restrict to these patients; undefined = every patient (callers enforce who may see what). */
  patientIds?: string[]
  types?: VitalType[]
  /**
   * Of the step counts, only the day totals (flag `daily-total`, LOINC 41950-7) or only the others
   * (55423-8); undefined = both. Other types are not affected.
   */
  steps?: StepCounts
  /** Inclusive/exclusive bounds on effective time in epoch ms. */
  fromMs?: number
  fromExclusive?: boolean
  toMs?: number
  toExclusive?: boolean
  sort: 'asc' | 'desc'
  limit: number
  /** Keyset cursor from a previous page's `next`. */
  after?: string
}

export interface ReadingPage {
  items: StoredObservation[]
  /** Opaque cursor for the next page, absent on the last page. */
  next?: string
}

export interface ReadingStore {
  /** Store a batch; a key already stored is overwritten with identical content (idempotent). */
  write(batch: StoredObservation[]): Promise<void>
  search(q: ReadingQuery): Promise<ReadingPage>
  /**
   * The keyset cursor at this observation, in this store's own format: a search with it as `after`
   * starts with the observation that follows (FHIR's next and previous links are built from it).
   */
  cursorAt(o: StoredObservation): string
  count(q: Omit<ReadingQuery, 'sort' | 'limit' | 'after'>): Promise<number>
  /** Latest observation per type for each patient. */
  latest(patientIds: string[]): Promise<StoredObservation[]>
  get(id: string): Promise<StoredObservation | undefined>
  /** Readings committed after `seq`, in commit order, with their `seq` (the local store only). */
  committedAfter?(seq: number, limit: number): Promise<StoredObservation[]>
  close(): Promise<void>
}

export interface DeadLetter {
  deviceId: string | null
  readingId: string | null
  code: string
  reason: string
  payload: Uint8Array | null
  receivedMs: number
}

/**
 * The local durable commit that precedes PUBACK: accepted observations (deduplicated by key) and
 * dead letters, committed together in one transaction with others (group commit).
 */
export interface Journal {
  /**
   * Resolves after the transaction holding this entry is committed. `fresh`: the readings stored now
   * (not replays of stored ones). `conflicts`: readings whose idempotency key is already stored for a
   * different reading (another type, time or value): not stored, for the caller to dead-letter.
   */
  commit(entry: {
    accepted: StoredObservation[]
    deadLetters: DeadLetter[]
  }): Promise<{ fresh: StoredObservation[]; conflicts: StoredObservation[] }>
  flush(): Promise<void>
}

export type Role = 'admin' | 'coordinator' | 'clinician'

export interface Patient {
  id: string
  name: string
  birthDate?: string
  monitoring: boolean
  /** When monitoring last resumed after a pause; absent if it never was paused. */
  monitoringSinceMs?: number
  /** Clinical flags from the patient's profile that rules read (hypercapnic -> NEWS2 scale 2, ...). */
  flags: { hypercapnic?: boolean; onOxygen?: boolean; heartFailure?: boolean }
  createdMs: number
}

export interface Device {
  id: string
  patientId: string
  type: string
  auth: 'secret' | 'cert'
  secretHash?: string
  certFingerprint?: string
  certNotAfterMs?: number
  revokedMs?: number
  createdMs: number
  lastSeenMs?: number
  connected: boolean
  battery?: number
  firmware?: string
}

export interface User {
  id: number
  email: string
  role: Role
  passwordHash: string
  mustChangePassword: boolean
  disabledMs?: number
  failedLogins: number
  lockedUntilMs?: number
  createdMs: number
}

export interface AuditEntry {
  actor: string
  action: string
  outcome: 'ok' | 'denied' | 'failed'
  patientId?: string
  target?: string
  ip?: string
  detail?: Record<string, unknown>
}

export interface AlertStore {
  insert(a: import('../shared/alert.ts').Alert): Promise<void>
  update(a: import('../shared/alert.ts').Alert): Promise<void>
  /** The open or acknowledged alert for this patient and rule, if any. */
  live(patientId: string, rule: string): Promise<import('../shared/alert.ts').Alert | undefined>
  /** The most recently resolved alert for this patient and rule, if any. */
  lastResolved(patientId: string, rule: string): Promise<import('../shared/alert.ts').Alert | undefined>
  allLive(): Promise<import('../shared/alert.ts').Alert[]>
  get(id: string): Promise<import('../shared/alert.ts').Alert | undefined>
  /**
   * Newest change first; or, with `changedAfter`, the alerts changed after that point (last change time,
   * then id), oldest first: an incremental feed that pages without gaps or repeats.
   */
  list(q: {
    status?: import('../shared/alert.ts').AlertStatus
    patientIds?: string[]
    limit: number
    changedAfter?: { updatedMs: number; id: string }
  }): Promise<import('../shared/alert.ts').Alert[]>
  snooze(alertId: string, userId: number, untilMs: number): Promise<void>
  snoozedBy(userId: number, nowMs: number): Promise<Map<string, number>>
  /** End every user's snooze of this alert (it got worse: everyone needs to see it again). */
  endSnoozes(alertId: string): Promise<void>
  /** The `seq` up to which every committed reading has been evaluated; undefined: not tracked here. */
  evaluatedThrough(): Promise<number | undefined>
  setEvaluatedThrough(seq: number): Promise<void>
}

/** The registry port (patients, devices, users, care teams); implemented by the SQLite adapter. */
export type { Registry, RegistryEvent } from './sqlite/registry.ts'

/** How long an API token lasts, in days: the default and the most an admin may choose. */
export const TOKEN_DAYS = { default: 90, max: 365 }

/** What a presented API token is: its user's, one that has expired (said only once its secret matched), or nothing. */
export type TokenCheck = { userId: number } | { expiredAt: string; id: string } | undefined
