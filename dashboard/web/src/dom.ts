// A tiny element builder: text is always set as text, never parsed as HTML.
export function h(
  tag: string,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElement {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v)
  for (const c of children) el.append(c)
  return el
}

export function clear(el: HTMLElement): HTMLElement {
  el.replaceChildren()
  return el
}
