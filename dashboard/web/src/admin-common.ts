import { ApiError } from './api.ts'
import { button, h } from './dom.ts'

// Pieces shared by the admin pages.

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
    const box = input({ type: 'checkbox', id: `${idPrefix}-${p.id}`, value: p.id })
    box.checked = selected.includes(p.id)
    return { box, el: h('label', { for: box.id, class: 'check' }, box, ` ${p.name} (${p.id})`) }
  })
  return {
    el: h('fieldset', {}, h('legend', {}, 'Patients (care team)'), ...boxes.map((b) => b.el)),
    value: () => boxes.filter((b) => b.box.checked).map((b) => b.box.value),
  }
}
