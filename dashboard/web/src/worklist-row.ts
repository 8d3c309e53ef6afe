import { h, srOnly } from './dom.ts'
import { localTime, partsText, readingParts, SEVERITY_ICON, shortTime, VITAL_COLUMNS } from './format.ts'
import type { Prefs } from './prefs.ts'
import { type Attention, STALE_MS } from './rank.ts'
import type { PatientRow, Reading } from './store.ts'

// One worklist row, built once and then patched in place: a new reading rewrites the one cell it changes.
// Replacing whole rows made every reading cost a full style and layout of a fresh row (a new
// `content-visibility: auto` row is laid out before the browser finds it off screen and skips it); under
// 100 readings a second, frames that caught a dozen readings became long tasks. Patching keeps the row
// element, its link (and so the keyboard focus) and its skipped state: a change inside an off-screen row
// costs nothing until the row scrolls into view.

export const SEV_NAME = ['none', 'low', 'medium', 'high', 'critical']

interface Parts {
  link: HTMLElement
  pid: HTMLElement
  attn: HTMLElement
  cells: HTMLElement[]
  /** What each part shows now: class, patient, attention, then one per vital column. */
  sigs: string[]
}
const parts = new WeakMap<HTMLElement, Parts>()

export function buildRow(p: PatientRow, at: Attention, pr: Prefs, now: number): HTMLElement {
  const link = h('a', { href: '', 'data-focus-key': 'open' })
  const pid = h('span', { class: 'pid' })
  const attn = h('div', { role: 'cell', class: 'c-attn' })
  const cells = VITAL_COLUMNS.map((c) => h('div', { role: 'cell', 'data-type': c }))
  const el = h(
    'div',
    { role: 'row', 'data-patient': p.id },
    h('div', { role: 'rowheader', class: 'c-patient' }, link, pid),
    attn,
    ...cells,
  )
  parts.set(el, { link, pid, attn, cells, sigs: [] })
  patchRow(el, p, at, pr, now)
  return el
}

/** Rewrite only the parts of the row whose content changed. */
export function patchRow(el: HTMLElement, p: PatientRow, at: Attention, pr: Prefs, now: number): boolean {
  const x = parts.get(el)
  if (!x) return false
  const sigs = x.sigs
  const cls = `wl-row sev-${SEV_NAME[at.openRank]}${p.monitoring === false ? ' paused' : ''}`
  if (sigs[0] !== cls) el.className = sigs[0] = cls
  const who = `${p.id}|${p.name}|${p.monitoring}`
  if (sigs[1] !== who) {
    sigs[1] = who
    x.link.setAttribute('href', `#/patients/${encodeURIComponent(p.id)}`)
    x.link.textContent = p.name
    // A long name is clipped by the column: the whole of it on hover.
    x.link.setAttribute('title', p.name)
    x.pid.textContent = p.monitoring === false ? `${p.id} · monitoring paused` : p.id
  }
  const attn = `${at.openRank}.${at.openCount}.${at.news2}.${at.ackRank}.${at.ackCount}.${at.stale}.${at.lastReadingMs === undefined}`
  if (sigs[2] !== attn) {
    sigs[2] = attn
    x.attn.replaceChildren(...attentionText(at))
  }
  for (let i = 0; i < VITAL_COLUMNS.length; i++) {
    const r = p.latest[VITAL_COLUMNS[i]]
    const sig = r ? cellSignature(r, pr, now) : ''
    if (sigs[3 + i] === sig) continue
    sigs[3 + i] = sig
    fillCell(x.cells[i], r, pr, now)
  }
  return true
}

function cellSignature(r: Reading, pr: Prefs, now: number): string {
  let v = ''
  for (const k in r.values) v += `${k}=${r.values[k]},`
  const unit = r.type === 'blood-glucose' ? pr.glucose : r.type === 'body-temperature' ? pr.temperature : ''
  return `${r.effective}|${v}|${r.interpretation}|${r.unit}|${unit}|${now - Date.parse(r.effective) > STALE_MS}`
}

function fillCell(cell: HTMLElement, r: Reading | undefined, pr: Prefs, now: number): void {
  if (!r) {
    cell.removeAttribute('class')
    cell.replaceChildren(h('span', { class: 'none' }, '—'), srOnly('no reading'))
    return
  }
  const old = now - Date.parse(r.effective) > STALE_MS
  if (old) cell.className = 'old'
  else cell.removeAttribute('class')
  const parts = readingParts(r, pr)
  const { value, unit } = parts
  const text = partsText(parts)
  cell.replaceChildren(
    // The value never shrinks; in a column too narrow for both, the unit is shortened (the whole of it
    // on hover, and in the column's header).
    h(
      'span',
      { class: 'val', title: text },
      h('span', { class: 'num' }, value),
      unit ? h('span', { class: 'u' }, ` ${unit}`) : '',
    ),
    h(
      'time',
      { datetime: r.effective, title: localTime(r.effective) },
      old ? `◔ ${shortTime(r.effective, now)}` : shortTime(r.effective, now),
    ),
  )
}

function attentionText(at: Attention): (Node | string)[] {
  const out: (Node | string)[] = []
  if (at.openCount) {
    const sev = SEV_NAME[at.openRank]
    out.push(
      h('span', { class: `badge sev-${sev}` }, `${SEVERITY_ICON[sev]} ${sev.toUpperCase()}`),
      ` ${at.openCount} open `,
    )
  }
  if (at.news2 !== undefined) out.push(h('span', { class: 'news2' }, `NEWS2 ${at.news2}`))
  // Acknowledged is not over: its severity stays in view (an acknowledged critical is still critical).
  if (at.ackCount) {
    const sev = SEV_NAME[at.ackRank]
    out.push(
      h(
        'span',
        { class: 'acked' },
        h('span', { class: `badge sev-${sev}` }, `${SEVERITY_ICON[sev]} ${sev.toUpperCase()}`),
        ` ${at.ackCount} acknowledged`,
      ),
    )
  }
  if (at.stale)
    out.push(
      h(
        'span',
        { class: 'stale' },
        at.lastReadingMs === undefined ? '◔ stale: no data yet' : '◔ stale: no data for 24 h+',
      ),
    )
  if (!out.length) out.push(h('span', { class: 'ok' }, '✓ nothing open'))
  return out
}
