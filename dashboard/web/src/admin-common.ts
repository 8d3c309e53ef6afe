import { ApiError } from './api.ts'
import { button, h, keepFocus, reconcile } from './dom.ts'

// Pieces shared by the admin pages.

/** The page's status line: announced when it changes, and focusable by script (see adminRows). */
export function adminStatus(): HTMLElement {
  return h('p', { role: 'status', id: 'admin-status', tabindex: '-1' })
}

/**
 * (Re)draw an admin table's rows, keyed (dom.ts reconcile: an unchanged row keeps its element, so a live
 * update leaves a focused button alone), without losing the keyboard focus: after an action or a live
 * update rebuilt the focused row, the same action's button in it has the focus again (its
 * `data-focus-key`, e.g. `revoke:cuff-9`); when that action is gone (a revoked device), the next button of
 * the list, else the status line that says what happened (dom.ts keepFocus).
 */
export function adminRows<T>(
  tbody: HTMLElement,
  status: HTMLElement,
  items: T[],
  key: (item: T) => string,
  signature: (item: T) => string,
  build: (item: T) => HTMLElement,
  cache: Map<string, { el: HTMLElement; sig: string }>,
): void {
  keepFocus(
    tbody,
    () => reconcile(tbody, items, key, signature, build, cache),
    () => status,
  )
}

export function input(attrs: Record<string, string>): HTMLInputElement {
  return h('input', attrs) as HTMLInputElement
}

/** A secret shown exactly once: the server keeps only its hash, so this is the only chance to copy it. */
export function onceSecret(title: string, secret: string, onDone: () => void): HTMLElement {
  const value = input({ id: 'once-secret', readonly: '', value: secret, 'aria-describedby': 'once-warn' })
  const status = h('span', { role: 'status', class: 'hint' })
  const copy = button('Copy', async () => {
    try {
      await navigator.clipboard.writeText(secret)
      status.textContent = 'Copied.'
    } catch {
      value.select()
      status.textContent = 'Selected: press Ctrl+C to copy.'
    }
  })
  copy.id = 'copy-secret'
  const panel = h(
    'section',
    { class: 'card once', 'aria-labelledby': 'once-title' },
    h('h3', { id: 'once-title' }, title),
    h('p', { id: 'once-warn' }, '⚠ Shown only once. Copy it now; it cannot be displayed again.'),
    h('label', { for: 'once-secret' }, 'Secret'),
    value,
    h(
      'div',
      { class: 'actions' },
      copy,
      button('Done, I have copied it', () => {
        panel.remove()
        onDone()
      }),
      status,
    ),
  )
  queueMicrotask(() => copy.focus())
  return panel
}

export function errorText(e: unknown): string {
  return e instanceof ApiError ? `${e.message} (${e.status})` : 'Cannot reach the server'
}

export function patientCheckboxes(
  all: { id: string; name: string }[],
  selected: string[],
  idPrefix: string,
): { el: HTMLElement; value: () => string[] } {
  const boxes = all.map((p) => {
    const box = input({
      type: 'checkbox',
      id: `${idPrefix}-${p.id}`,
      value: p.id,
      'data-focus-key': `${idPrefix}-${p.id}`,
    })
    box.checked = selected.includes(p.id)
    return { box, el: h('label', { for: box.id, class: 'check' }, box, ` ${p.name} (${p.id})`) }
  })
  return {
    el: h('fieldset', {}, h('legend', {}, 'Patients (care team)'), ...boxes.map((b) => b.el)),
    value: () => boxes.filter((b) => b.box.checked).map((b) => b.box.value),
  }
}
