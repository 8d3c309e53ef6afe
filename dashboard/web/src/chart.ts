import uPlot from 'uplot'
import { h } from './dom.ts'
import { LABELS, SEVERITY_ICON } from './format.ts'
import type { Prefs } from './prefs.ts'
import type { PatientThreshold, Threshold } from './thresholds.ts'
import { displayUnit, formatNumber, toDisplay, unitLabel } from './units.ts'

// One trend chart per vital (uPlot: canvas, fast with thousands of points), with the default alert
// thresholds drawn as labelled dashed lines, and a text summary for screen readers.

export interface ChartReading {
  effectiveMs: number
  values: Record<string, number>
  /** A glucose meter's LO/HI: beyond its range, so no value to plot. */
  interpretation?: 'L' | 'H'
}

const SEV_COLOUR = { critical: '#b00020', high: '#c2410c', medium: '#a16207', low: '#1d4ed8' } as const

export function trendChart(opts: {
  type: string
  readings: ChartReading[]
  prefs: Prefs
  /** The patient's alert limits (all types; this chart draws its own). */
  thresholds: PatientThreshold[]
  fromMs: number
  toMs: number
  width: number
}): { el: HTMLElement; destroy: () => void } {
  const { type, prefs } = opts
  const unit = unitLabel(displayUnit(type, prefs))
  const fields = type === 'blood-pressure' ? ['systolic', 'diastolic'] : ['value']
  const rows = opts.readings.filter((r) => fields.some((f) => typeof r.values[f] === 'number'))
  const xs = rows.map((r) => r.effectiveMs / 1000)
  const ys = fields.map((f) =>
    rows.map((r) => (typeof r.values[f] === 'number' ? toDisplay(type, r.values[f], prefs) : null)),
  )
  const lines: Threshold[] = opts.thresholds
    .filter((t) => t.type === type)
    .map((t) => ({ ...t, value: toDisplay(type, t.value, prefs) }))
  const all = [...ys.flat().filter((v): v is number => v !== null), ...lines.map((t) => t.value)]
  const lo = all.length ? Math.min(...all) : 0
  const hi = all.length ? Math.max(...all) : 1
  const pad = (hi - lo || 1) * 0.08

  const title = `${LABELS[type] ?? type} (${unit})`
  const plotBox = h('div', { class: 'plot', 'aria-hidden': 'true' })
  // Meter readings beyond its range have no value to plot, and are often the most urgent (a LO glucose
  // is critical): the summary under the chart says so in words.
  const beyond = opts.readings.filter((r) => r.interpretation && !rows.includes(r))
  const summary = h(
    'p',
    { class: 'chart-summary' },
    summarize(type, rows, ys, unit, prefs) + (beyond.length ? ` ${beyondText(beyond)}` : ''),
  )
  const legend = h(
    'ul',
    { class: 'thresholds', 'aria-label': `Alert thresholds for ${LABELS[type] ?? type}` },
    ...lines.map((t) =>
      h(
        'li',
        { class: `sev-${t.severity}` },
        `${SEVERITY_ICON[t.severity]} ${t.label}: ${formatNumber(type, t.value, prefs)} ${unit} (${t.severity})`,
      ),
    ),
  )
  const el = h(
    'figure',
    { class: 'chart', 'data-type': type },
    h('figcaption', {}, title),
    plotBox,
    summary,
    legend,
  )
  const plot = new uPlot(
    {
      width: Math.max(280, opts.width),
      height: 200,
      scales: {
        x: { time: true, range: [opts.fromMs / 1000, opts.toMs / 1000] },
        y: { range: [lo - pad, hi + pad] },
      },
      axes: [{}, { label: unit, size: 56 }],
      series: [
        {},
        ...fields.map((f, i) => ({
          label: f === 'value' ? (LABELS[type] ?? type) : f,
          stroke: i === 0 ? '#1d4ed8' : '#7c3aed',
          width: 2,
          points: { show: true, size: 5 },
          value: (_u: uPlot, v: number | null) =>
            v === null ? '—' : `${formatNumber(type, v, prefs)} ${unit}`,
        })),
      ],
      hooks: { draw: [(u: uPlot) => drawThresholds(u, lines)] },
    },
    [xs, ...ys] as uPlot.AlignedData,
    plotBox,
  )
  return { el, destroy: () => plot.destroy() }
}

function drawThresholds(u: uPlot, lines: Threshold[]) {
  const { ctx } = u
  const { left, top, width, height } = u.bbox
  ctx.save()
  ctx.font = `${Math.round(11 * devicePixelRatio)}px system-ui, sans-serif`
  // uPlot leaves the axes' alignment on the context; labels start inside the plot area.
  ctx.textAlign = 'left'
  ctx.textBaseline = 'bottom'
  for (const t of lines) {
    const y = Math.round(u.valToPos(t.value, 'y', true))
    if (y < top || y > top + height) continue
    ctx.strokeStyle = SEV_COLOUR[t.severity]
    ctx.fillStyle = SEV_COLOUR[t.severity]
    ctx.lineWidth = 1.5 * devicePixelRatio
    ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio])
    ctx.beginPath()
    ctx.moveTo(left, y)
    ctx.lineTo(left + width, y)
    ctx.stroke()
    ctx.fillText(`${t.label} ${t.value}`, left + 4, y - 3)
  }
  ctx.restore()
}

function beyondText(beyond: ChartReading[]): string {
  const lo = beyond.filter((r) => r.interpretation === 'L').length
  const hi = beyond.length - lo
  const last = beyond.reduce((a, b) => (b.effectiveMs > a.effectiveMs ? b : a))
  const parts = [lo ? `${lo} below the meter's range (LO)` : '', hi ? `${hi} above it (HI)` : ''].filter(
    Boolean,
  )
  return `Not plotted: ${parts.join(', ')}; the latest ${last.interpretation === 'L' ? 'LO' : 'HI'} at ${new Date(
    last.effectiveMs,
  ).toLocaleString()}.`
}

function summarize(
  type: string,
  rows: ChartReading[],
  ys: (number | null)[][],
  unit: string,
  prefs: Prefs,
): string {
  if (!rows.length) return 'No readings in this period.'
  const fmt = (v: number) => formatNumber(type, v, prefs)
  const parts = ys.map((col, i) => {
    const vals = col.filter((v): v is number => v !== null)
    const name = ys.length > 1 ? `${i === 0 ? 'systolic' : 'diastolic'} ` : ''
    return `${name}min ${fmt(Math.min(...vals))}, max ${fmt(Math.max(...vals))}, latest ${fmt(vals[vals.length - 1])} ${unit}`
  })
  return `${rows.length} reading${rows.length === 1 ? '' : 's'}: ${parts.join('; ')}.`
}
