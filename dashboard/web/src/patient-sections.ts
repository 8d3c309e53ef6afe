import { alertText, localTimes } from './alert-text.ts'
import { h } from './dom.ts'
import { formatReading, LABELS, localTime, SEVERITY_ICON } from './format.ts'
import type { Prefs } from './prefs.ts'
import type { AlertItem, Reading } from './store.ts'
import type { PatientThreshold } from './thresholds.ts'

// The patient view's read-only sections: latest values, devices, alert history, RPM band.

export interface Detail {
  id: string
  name: string
  birthDate?: string
  monitoring: boolean
  flags: Record<string, boolean>
  latest: Record<string, Reading>
  devices: {
    id: string
    type: string
    connected: boolean
    lastSeen?: string
    battery?: number
    revoked: boolean
  }[]
  alerts: AlertItem[]
  thresholds: PatientThreshold[]
  rpm: { periodDays: number; daysWithReadings: number; band: string }
}

export function bandText(band: string, days: number): string {
  if (band === '99454') return `${days} of 30 days: CPT 99454 (16 or more days)`
  if (band === '99445') return `${days} of 30 days: CPT 99445 (2–15 days)`
  return `${days} of 30 days: under 2 days, no device code billable`
}

export function latestList(d: Detail, prefs: Prefs): HTMLElement {
  const items = Object.values(d.latest)
  if (!items.length) return h('p', {}, 'No readings yet.')
  return h(
    'dl',
    { class: 'latest' },
    ...items.flatMap((r) => [
      h('dt', {}, LABELS[r.type] ?? r.type),
      h(
        'dd',
        { 'data-type': r.type },
        formatReading(r, prefs),
        h('small', {}, ` at ${localTime(r.effective)}`),
      ),
    ]),
  )
}

export function devicesTable(d: Detail): HTMLElement {
  if (!d.devices.length) return h('p', {}, 'No devices enrolled.')
  return h(
    'table',
    { class: 'devices' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Device', 'Type', 'Connection', 'Last seen', 'Battery'].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h(
      'tbody',
      {},
      ...d.devices.map((dev) =>
        h(
          'tr',
          { 'data-device': dev.id },
          h('th', { scope: 'row' }, dev.id),
          h('td', {}, dev.type),
          h('td', {}, dev.revoked ? '✕ revoked' : dev.connected ? '● connected' : '○ offline'),
          h('td', {}, dev.lastSeen ? localTime(dev.lastSeen) : 'never'),
          h(
            'td',
            {},
            dev.battery === undefined ? '—' : `${dev.battery} %${dev.battery <= 15 ? ' (low)' : ''}`,
          ),
        ),
      ),
    ),
  )
}

export function historyTable(alerts: AlertItem[], prefs: Prefs): HTMLElement {
  if (!alerts.length) return h('p', {}, 'No alerts.')
  return h(
    'table',
    { class: 'history' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        ...['Opened', 'Severity', 'Rule', 'Message', 'Status', 'Last action'].map((t) =>
          h('th', { scope: 'col' }, t),
        ),
      ),
    ),
    h(
      'tbody',
      {},
      ...alerts.map((a) => {
        const last = a.history?.[a.history.length - 1]
        return h(
          'tr',
          { 'data-alert': a.id },
          h('td', {}, localTime(a.openedAt)),
          h('td', {}, `${SEVERITY_ICON[a.severity]} ${a.severity}`),
          h('td', {}, a.rule),
          h('td', {}, alertText(a.message, prefs)),
          h('td', {}, a.status),
          h(
            'td',
            {},
            last ? `${last.action} by ${last.by}${last.note ? `: “${localTimes(last.note)}”` : ''}` : '',
          ),
        )
      }),
    ),
  )
}
