import { ApiError, api } from './api.ts'
import { type ChartReading, trendChart } from './chart.ts'
import { button, clear, h, keepFocus } from './dom.ts'
import { VITAL_COLUMNS } from './format.ts'
import { bandText, type Detail, devicesTable, historyTable, latestList } from './patient-sections.ts'
import type { Ctx, View } from './routes.ts'

// The patient view: trends with thresholds over a day, week or month, alert history, devices and the
// RPM days-with-readings count for the current 30-day period (CPT 99445 / 99454 bands, CLINICAL.md).

const RANGES = { day: 86_400_000, week: 7 * 86_400_000, month: 30 * 86_400_000 } as const
type Range = keyof typeof RANGES

export function mountPatient(ctx: Ctx, id: string): View {
  let range: Range = 'week'
  let charts: { destroy: () => void }[] = []
  let reloadTimer: ReturnType<typeof setTimeout> | undefined
  let closed = false
  let prefSig = `${ctx.prefs.glucose}|${ctx.prefs.temperature}`
  const root = h('div', { class: 'patient' })
  clear(ctx.main).append(root)
  ctx.main.focus()
  // The page is redrawn whole (a live update, a range, a unit): the link or button that had the focus has
  // it again (its data-focus-key); focus elsewhere stays where it is.
  const redraw = (...content: HTMLElement[]) =>
    keepFocus(
      root,
      () => root.replaceChildren(...content),
      () => ctx.main,
    )

  let shown = false
  // Loads overlap (a live reload, a reconnection, a range): only the latest may draw, or a slow earlier
  // one put a patient who had just left the care team back on screen.
  let latestLoad = 0
  async function load() {
    const mine = ++latestLoad
    const stale = () => closed || mine !== latestLoad
    let d: Detail
    try {
      d = await api<Detail>('GET', `/api/patients/${encodeURIComponent(id)}`)
    } catch (e) {
      if (stale()) return
      // Not found after it was on screen: taken out of the viewer's care team (or removed) meanwhile.
      const gone = e instanceof ApiError && e.status === 404
      const text = gone
        ? shown
          ? 'This patient is no longer in your care team.'
          : 'Patient not found.'
        : (e as Error).message
      if (gone) {
        shown = false
        for (const c of charts) c.destroy()
        charts = []
      }
      redraw(
        h(
          'p',
          { role: 'alert' },
          text,
          ' ',
          h('a', { href: '#/', 'data-focus-key': 'back' }, 'Back to worklist'),
        ),
      )
      return
    }
    const now = Date.now()
    const fromMs = now - RANGES[range]
    const types = [...VITAL_COLUMNS, 'steps'].filter((t) => d.latest[t])
    // History may be unavailable (InfluxDB down) while the rest of the page is not: those charts say so.
    const series = await Promise.allSettled(
      types.map((t) =>
        api<{ readings: ChartReading[] }>(
          'GET',
          `/api/patients/${encodeURIComponent(id)}/readings?type=${t}&from=${new Date(fromMs).toISOString()}&limit=5000`,
        ),
      ),
    )
    if (stale()) return
    for (const c of charts) c.destroy()
    const width = Math.min(900, ctx.main.clientWidth - 48)
    const made = types.flatMap((t, i) => {
      const r = series[i]
      if (r.status === 'rejected') return []
      return [
        trendChart({
          type: t,
          readings: r.value.readings,
          prefs: ctx.prefs,
          thresholds: d.thresholds,
          fromMs,
          toMs: now,
          width,
        }),
      ]
    })
    const failed = series.find((r) => r.status === 'rejected')
    const unavailable = failed
      ? [
          h(
            'p',
            { class: 'history-unavailable', role: 'status' },
            `Reading history cannot be shown right now (${(failed.reason as Error).message}). `,
            'Latest values above are current; the trends come back when the server can read the history again.',
          ),
        ]
      : []
    charts = made
    shown = true
    redraw(
      h('p', {}, h('a', { href: '#/', 'data-focus-key': 'back' }, '← Worklist')),
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
        latestList(d, ctx.prefs),
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
          ...(made.length || unavailable.length
            ? [...unavailable, ...made.map((c) => c.el)]
            : [h('p', {}, 'No readings yet.')]),
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
        historyTable(d.alerts, ctx.prefs),
      ),
    )
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
    // Reconnected, or the care team changed: what arrived meanwhile, or whether this patient is still
    // the viewer's to see, shows only after a reload.
    reloaded: () => void load(),
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
        'data-focus-key': `range:${r}`,
      }),
    ),
  )
}
