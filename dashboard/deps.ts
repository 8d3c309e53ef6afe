import type { Alerts } from '../alerts/index.ts'
import type { EventBus } from '../shared/events.ts'
import type { StoredObservation } from '../shared/fhir.ts'
import type { Logger } from '../shared/logger.ts'
import type { Metrics } from '../shared/metrics.ts'
import type { AlertStore, AuditEntry, ReadingStore, Registry, TokenCheck } from '../storage/ports.ts'

// What the dashboard needs from the rest of Vitalwire, wired in main.ts.

export interface Health {
  live: boolean
  ready: boolean
  /** ready but impaired (e.g. InfluxDB backlog draining). */
  degraded: boolean
  checks: Record<string, { ok: boolean; detail?: string }>
}

/** Where the worklist stands in the readings table (opaque to the dashboard). */
export interface ReadingsCursor {
  rowid: number
  key: string | undefined
}

export interface DashboardDeps {
  registry: Registry
  /** Reading history (InfluxDB when configured): charts, FHIR. */
  readings: ReadingStore
  /**
   * The local store, when it holds at least the last 30 days: a patient's latest values and RPM day
   * count come from it, so the patient view does not depend on InfluxDB being up. Else `readings`.
   */
  recentReadings?: ReadingStore
  /**
   * Fast path for the worklist (SQLite, storage/sqlite/latest.ts): the latest readings once, then only
   * what changed since; without it the worklist asks readings.latest and alertStore on every request.
   */
  latestIndex?: {
    latest(): Promise<{ cursor: ReadingsCursor; observations: StoredObservation[] }>
    changesSince(
      cursor: ReadingsCursor,
      latestCount: number,
    ): Promise<
      | { kind: 'reload' }
      | { kind: 'append'; cursor: ReadingsCursor; latestCount: number; observations: StoredObservation[] }
    >
    liveAlerts(): Promise<{ patientId: string; severity: string }[]>
  }
  alertStore: AlertStore
  alerts: Pick<Alerts, 'acknowledge' | 'resolve' | 'snooze' | 'thresholdsFor'>
  audit: {
    append(e: AuditEntry): void
    list(q: {
      patientId?: string
      actor?: string
      action?: string
      beforeSeq?: number
      limit: number
    }): Promise<unknown[]>
  }
  tokens: {
    verify(token: string): Promise<TokenCheck>
    create(
      userId: number,
      label: string,
      days?: number,
    ): Promise<{ id: string; token: string; expiresAt: string }>
    revoke(id: string): Promise<boolean>
    list(): Promise<
      {
        id: string
        userId: number
        label: string
        createdAt: string
        revokedAt?: string
        expiresAt?: string
      }[]
    >
  }
  /** @fastify/session store (callback style); `get` is also used to end sockets of expired sessions. */
  sessionStore: { get(sid: string, cb: (err: unknown, session?: unknown) => void): void }
  sessionSecret: string
  sessionIdleMs: number
  /** How often open WebSockets are checked against their session or token (default min(15 s, idle/2)). */
  wsRecheckMs?: number
  events: EventBus
  log: Logger
  metrics: Metrics
  health(): Health
  enroll(opts: {
    id: string
    patientId: string
    type: string
    auth: 'secret' | 'cert'
    /** A PEM certificate the deployment's device CA issued, to register instead of issuing one. */
    certificate?: string
  }): Promise<unknown>
  revokeDevice(id: string): Promise<void>
  /** Serve the web UI from this directory, if built. */
  webRoot?: string
  /** HTTPS (any non-loopback bind): secure cookies and HSTS. */
  secure: boolean
}
