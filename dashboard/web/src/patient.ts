import { ApiError, api } from './api.ts'
import { type ChartReading, trendChart } from './chart.ts'
import { button, clear, h } from './dom.ts'
import { formatReading, LABELS, localTime, SEVERITY_ICON, VITAL_COLUMNS } from './format.ts'
import type { Ctx, View } from './routes.ts'
import type { AlertItem, Reading } from './store.ts'

// The patient view: trends with thresholds over a day, week or month, alert history, devices and the
// RPM days-with-readings count for the current 30-day period (CPT 99445 / 99454 bands, CLINICAL.md).

const RANGES = { day: 86_400_000, week: 7 * 86_400_000, month: 30 * 86_400_000 } as const
type Range = keyof typeof RANGES

interface Detail {
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
  rpm: { periodDays: number; daysWithReadings: number; band: string }
}

export function bandText(band: string, days: number): string {
  if (band === '99454') return `${days} of 30 days: CPT 99454 (16 or more days)`
  if (band === '99445') return `${days} of 30 days: CPT 99445 (2–15 days)`
  return `${days} of 30 days: under 2 days, no device code billable`
}

export function mountPatient(ctx: Ctx, id: string): View {
  let range: Range = 'week'
  let charts: { destroy: () => void }[] = []
  let reloadTimer: ReturnType<typeof setTimeout> | undefined
  let closed = false
  let prefSig = `${ctx.prefs.glucose}|${ctx.prefs.temperature}`
  const root = h('div', { class: 'patient' })
  clear(ctx.main).append(root)
  ctx.main.focus()

  async function load() {
    let d: Detail
    try {
      d = await api<Detail>('GET', `/api/patients/${encodeURIComponent(id)}`)
    } catch (e) {
      const text = e instanceof ApiError && e.status === 404 ? 'Patient not found.' : (e as Error).message
      root.replaceChildren(h('p', { role: 'alert' }, text, ' ', h('a', { href: '#/' }, 'Back to worklist')))
      return
    }
    const now = Date.now()
    const fromMs = now - RANGES[range]
    const types = [...VITAL_COLUMNS, 'steps'].filter((t) => d.latest[t])
    const series = await Promise.all(
      types.map((t) =>
        api<{ readings: ChartReading[] }>(
          'GET',
          `/api/patients/${encodeURIComponent(id)}/readings?type=${t}&from=${new Date(fromMs).toISOString()}&limit=5000`,
        ),
      ),
    )
    if (closed) return
    for (const c of charts) c.destroy()
    const width = Math.min(900, ctx.main.clientWidth - 48)
    const made = types.map((t, i) =>
      trendChart({
        type: t,
        readings: series[i].readings,
        prefs: ctx.prefs,
        flags: d.flags,
        fromMs,
        toMs: now,
        width,
      }),
    )
    charts = made
    const focusedRange = document.activeElement?.getAttribute('data-range')
    root.replaceChildren(
      h('p', {}, h('a', { href: '#/' }, '← Worklist')),
      h('h2', { id: 'patient-title' }, d.name),
      h(
        'p',
        { class: 'meta' },
        `ID ${d.id}`,
        d.birthDate ? ` · born ${d.birthDate}` : '',
        d.monitoring ? ' · monitoring active' : ' · MONITORING PAUSED',
        ...Object.entries(d.flags ?? {})
          .filter(([, v]) => v)
          .map(([k]) => ` · ${k}`),
      ),
      h(
        'section',
        { class: 'card rpm', 'aria-labelledby': 'rpm-title' },
        h('h3', { id: 'rpm-title' }, 'RPM: days with device readings (current 30-day period)'),
        h('p', { id: 'rpm-days' }, bandText(d.rpm.band, d.rpm.daysWithReadings)),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'latest-title' },
        h('h3', { id: 'latest-title' }, 'Latest'),
        latestList(d, ctx),
      ),
      h(
        'section',
        { 'aria-labelledby': 'trends-title' },
        h('h3', { id: 'trends-title' }, 'Trends'),
        rangePicker(range, (r) => {
          range = r
          void load()
        }),
        h(
          'div',
          { class: 'charts' },
          ...(made.length ? made.map((c) => c.el) : [h('p', {}, 'No readings yet.')]),
        ),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'dev-title' },
        h('h3', { id: 'dev-title' }, 'Devices'),
        devicesTable(d),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'hist-title' },
        h('h3', { id: 'hist-title' }, 'Alert history'),
        historyTable(d.alerts),
      ),
    )
    if (focusedRange) (root.querySelector(`[data-range="${focusedRange}"]`) as HTMLElement | null)?.focus()
  }

  const off = ctx.store.subscribe((m) => {
    const pid = m.patientId ?? m.alert?.patientId
    if (pid !== id || reloadTimer) return
    // Live, but at most one reload every 2 s however fast readings arrive.
    reloadTimer = setTimeout(() => {
      reloadTimer = undefined
      void load()
    }, 2000)
  })
  void load()
  return {
    render() {
      // A unit preference change re-draws at once; data changes arrive through the subscription above.
      const sig = `${ctx.prefs.glucose}|${ctx.prefs.temperature}`
      if (sig !== prefSig) {
        prefSig = sig
        void load()
      }
    },
    close() {
      closed = true
      off()
      clearTimeout(reloadTimer)
      for (const c of charts) c.destroy()
    },
  }
}

function rangePicker(current: Range, pick: (r: Range) => void): HTMLElement {
  return h(
    'div',
    { class: 'range', role: 'group', 'aria-label': 'Time range' },
    ...(Object.keys(RANGES) as Range[]).map((r) =>
      button(r === 'day' ? 'Day' : r === 'week' ? 'Week' : 'Month', () => pick(r), {
        'aria-pressed': String(r === current),
        'data-range': r,
      }),
    ),
  )
}

function latestList(d: Detail, ctx: Ctx): HTMLElement {
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
        formatReading(r, ctx.prefs),
        h('small', {}, ` at ${localTime(r.effective)}`),
      ),
    ]),
  )
}

function devicesTable(d: Detail): HTMLElement {
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

function historyTable(alerts: AlertItem[]): HTMLElement {
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
          h('td', {}, a.message),
          h('td', {}, a.status),
          h('td', {}, last ? `${last.action} by ${last.by}${last.note ? `: “${last.note}”` : ''}` : ''),
        )
      }),
    ),
  )
}
