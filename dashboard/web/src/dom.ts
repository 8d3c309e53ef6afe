// A tiny element builder: text is always set as text, never parsed as HTML.
export function h(
  tag: string,
  attrs: Record<string, string | false | undefined> = {},
  ...children: (Node | string)[]
): HTMLElement {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) if (v !== false && v !== undefined) el.setAttribute(k, v)
  for (const c of children) el.append(c)
  return el
}

export function clear(el: HTMLElement): HTMLElement {
  el.replaceChildren()
  return el
}

export function button(label: string, onClick: () => void, attrs: Record<string, string> = {}) {
  const b = h('button', { type: 'button', ...attrs }, label) as HTMLButtonElement
  b.addEventListener('click', onClick)
  return b
}

/** Text for screen readers only (visually hidden). */
export function srOnly(text: string): HTMLElement {
  return h('span', { class: 'sr-only' }, text)
}

/**
 * Rebuild `region` (replace or reconcile its children) without losing the keyboard focus (WCAG 2.4.3): a
 * focused element that is removed leaves the focus on <body>, which throws a keyboard or screen-reader
 * user back to the top of the page. When the focus was inside `region`, it goes back to the element with
 * the same `data-focus-key` (give each control a key unique within the region: `revoke:cuff-9`, the same
 * action in the same row); when that one is gone (the row removed, or the action no longer offered), to
 * the nearest keyed element that followed it, else the nearest before it, else to `fallback()` (the
 * status message that says what happened; it needs tabindex="-1"). Focus elsewhere is never moved.
 */
export function keepFocus(
  region: HTMLElement,
  rebuild: () => void,
  fallback?: () => HTMLElement | null | undefined,
): void {
  const active = document.activeElement as HTMLElement | null
  if (!active || !region.contains(active)) {
    rebuild()
    return
  }
  const keys = [...region.querySelectorAll('[data-focus-key]')].map((e) => e.getAttribute('data-focus-key')!)
  const key = active.getAttribute('data-focus-key')
  rebuild()
  if (active.isConnected && region.contains(active)) {
    // Kept (patched in place), maybe moved: moving a focused element can blur it.
    if (document.activeElement !== active) active.focus({ preventScroll: true })
    return
  }
  const at = key === null ? -1 : keys.indexOf(key)
  const candidates = at < 0 ? [] : [key!, ...keys.slice(at + 1), ...keys.slice(0, at).reverse()]
  const next = candidates
    .map((k) => region.querySelector<HTMLElement>(`[data-focus-key="${CSS.escape(k)}"]`))
    .find((el) => el !== null)
  ;(next ?? fallback?.())?.focus()
}

/**
 * Keyed reconciliation: update (or else rebuild) only the children whose signature changed and move nodes
 * only when the order changed, so a stream of updates touches a handful of rows, and focus survives a
 * reorder. `update` patches an existing element in place and returns false when it cannot (then the
 * element is rebuilt): patching keeps the element, its focus and its form state.
 */
export function reconcile<T>(
  parent: HTMLElement,
  items: T[],
  key: (item: T) => string,
  signature: (item: T) => string,
  build: (item: T) => HTMLElement,
  cache: Map<string, { el: HTMLElement; sig: string }>,
  update?: (el: HTMLElement, item: T) => boolean,
  place: (els: HTMLElement[]) => void = (els) => moveInto(parent, els),
): void {
  const seen = new Set<string>()
  const els: HTMLElement[] = []
  for (const item of items) {
    const k = key(item)
    seen.add(k)
    const sig = signature(item)
    let entry = cache.get(k)
    if (entry && entry.sig !== sig && update?.(entry.el, item)) entry.sig = sig
    else if (!entry || entry.sig !== sig) {
      const el = build(item)
      if (entry) {
        carryFocus(entry.el, el)
        entry.el.replaceWith(el)
      }
      entry = { el, sig }
      cache.set(k, entry)
    }
    els.push(entry.el)
  }
  for (const [k, entry] of cache)
    if (!seen.has(k)) {
      entry.el.remove()
      cache.delete(k)
    }
  const focused = document.activeElement as HTMLElement | null
  place(els)
  if (focused && focused !== document.activeElement && parent.contains(focused))
    focused.focus({ preventScroll: true })
}

/**
 * Put `parent`'s children in the order of `els` with the fewest moves: the children already in the right
 * relative order (a longest increasing subsequence of their old positions) stay; only the others move.
 * When one patient rises to the top of 1,000 rows, that is one DOM move, not 1,000 (re-inserting every
 * row would restyle the whole list: a long task under a stream of alerts). Children of `parent` that are
 * not in `els` are left in it, for a later call to move into their own parent (worklist blocks).
 */
export function moveInto(parent: HTMLElement, els: HTMLElement[]): void {
  const current = parent.children
  let same = current.length === els.length
  for (let k = 0; same && k < els.length; k++) same = current[k] === els[k]
  if (same) return
  const old = new Map<Element, number>()
  let i = 0
  for (const c of parent.children) old.set(c, i++)
  const seq = els.map((e) => old.get(e) ?? -1)
  const stay = lisMembers(seq)
  let next: Element | null = null
  for (let k = els.length - 1; k >= 0; k--) {
    if (!stay.has(k)) parent.insertBefore(els[k], next)
    next = els[k]
  }
}

/** Indexes of one longest strictly increasing subsequence of `seq`, ignoring negative entries. */
export function lisMembers(seq: number[]): Set<number> {
  const tails: number[] = []
  const prev = new Array<number>(seq.length).fill(-1)
  for (let k = 0; k < seq.length; k++) {
    if (seq[k] < 0) continue
    let lo = 0
    let hi = tails.length
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      if (seq[tails[mid]] < seq[k]) lo = mid + 1
      else hi = mid
    }
    if (lo > 0) prev[k] = tails[lo - 1]
    tails[lo] = k
  }
  const members = new Set<number>()
  for (let k = tails.length ? tails[tails.length - 1] : -1; k >= 0; k = prev[k]) members.add(k)
  return members
}

/** When a row is rebuilt under the keyboard focus, put focus on the same control in the new row. */
function carryFocus(from: HTMLElement, to: HTMLElement): void {
  const active = document.activeElement
  if (!active || !from.contains(active)) return
  const id = active.getAttribute('data-focus-key')
  const target = id ? (to.querySelector(`[data-focus-key="${CSS.escape(id)}"]`) as HTMLElement | null) : null
  queueMicrotask(() => (target ?? to).focus({ preventScroll: true }))
}
