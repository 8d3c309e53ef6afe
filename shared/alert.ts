// The alert as stored, served by /api/alerts and pushed over the WebSocket (ARCHITECTURE.md).

export type Severity = 'critical' | 'high' | 'medium' | 'low'
export type AlertStatus = 'open' | 'acknowledged' | 'resolved'

export const SEVERITY_RANK: Record<Severity, number> = { critical: 4, high: 3, medium: 2, low: 1 }

export interface AlertEvent {
  at: string
  /** 'system' or the user's email. */
  by: string
  action:
    | 'opened'
    | 'updated'
    | 'escalated'
    | 'viewed'
    | 'acknowledged'
    | 'snoozed'
    | 'resolved'
    | 'auto-resolved'
  note?: string
}

export interface Alert {
  id: string
  patientId: string
  rule: string
  severity: Severity
  status: AlertStatus
  message: string
  openedAt: string
  updatedAt: string
  /** Time of the first breaching observation (measurement time), for "since when". */
  firstSeenAt?: string
  /** Time of the most recent breaching observation. */
  lastSeenAt: string
  observationIds: string[]
  /** Breaching observations folded into this alert (dedupe). */
  count: number
  /** The most extreme value seen, in the rule's unit. */
  worstValue?: number
  unit?: string
  /** Scored rules (news2). */
  score?: number
  breakdown?: Record<string, { value: number; points: number; note?: string }>
  escalated?: boolean
  /**
   * When the alert last became critical and unacknowledged (opened critical, or raised to critical,
   * which reopens an acknowledged alert): escalation counts from here, not from `openedAt`.
   */
  criticalSince?: string
  /**
   * Scheduled rules: what the alert is about, as keys its rule reads at the next check (device-offline:
   * `<device>:battery-low` for each device whose battery it reports low, which stays low until above
   * the rule's margin).
   */
  about?: string[]
  /** When the escalation hook (webhook) last delivered this alert. */
  escalationNotifiedAt?: string
  /** Values have been back inside the hysteresis band since this time (auto-resolve clock). */
  recoveringSince?: string
  history: AlertEvent[]
}
