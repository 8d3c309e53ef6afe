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
 * Keyed reconciliation: rebuild only the children whose signature changed and move nodes only when the
 * order changed, so a stream of updates touches a handful of rows, and focus survives a reorder.
 */
export function reconcile<T>(
  parent: HTMLElement,
  items: T[],
  key: (item: T) => string,
  signature: (item: T) => string,
  build: (item: T) => HTMLElement,
  cache: Map<string, { el: HTMLElement; sig: string }>,
): void {
  const seen = new Set<string>()
  const els: HTMLElement[] = []
  for (const item of items) {
    const k = key(item)
    seen.add(k)
    const sig = signature(item)
    let entry = cache.get(k)
    if (!entry || entry.sig !== sig) {
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
  const current = parent.children
  let same = current.length === els.length
  for (let i = 0; same && i < els.length; i++) same = current[i] === els[i]
  if (same) return
  const focused = document.activeElement as HTMLElement | null
  parent.replaceChildren(...els)
  if (focused && focused !== document.activeElement && parent.contains(focused))
    focused.focus({ preventScroll: true })
}

/** When a row is rebuilt under the keyboard focus, put focus on the same control in the new row. */
function carryFocus(from: HTMLElement, to: HTMLElement): void {
  const active = document.activeElement
  if (!active || !from.contains(active)) return
  const id = active.getAttribute('data-focus-key')
  const target = id ? (to.querySelector(`[data-focus-key="${CSS.escape(id)}"]`) as HTMLElement | null) : null
  queueMicrotask(() => (target ?? to).focus({ preventScroll: true }))
}
