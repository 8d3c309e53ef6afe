import { h } from './dom.ts'

// Modal dialogs on the native <dialog> element: focus moves in and is trapped by the browser, Escape
// cancels, and focus returns to the control that opened it. Never window.prompt/confirm.

let seq = 0

export function openDialog(opts: {
  title: string
  body: (Node | string)[]
  submitLabel: string
  cancelLabel?: string
  role?: 'dialog' | 'alertdialog'
  onSubmit?: (form: HTMLFormElement) => Promise<string | undefined> | string | undefined
}): Promise<boolean> {
  const id = `dlg-${++seq}`
  const opener = document.activeElement as HTMLElement | null
  const error = h('p', { class: 'error', role: 'alert' })
  const submit = h('button', { type: 'submit', class: 'primary' }, opts.submitLabel) as HTMLButtonElement
  const cancel = h('button', { type: 'button' }, opts.cancelLabel ?? 'Cancel') as HTMLButtonElement
  const form = h(
    'form',
    { method: 'dialog' },
    h('h2', { id: `${id}-title` }, opts.title),
    ...opts.body,
    error,
    h('div', { class: 'actions' }, submit, cancel),
  ) as HTMLFormElement
  const dlg = h(
    'dialog',
    { 'aria-labelledby': `${id}-title`, role: opts.role ?? 'dialog' },
    form,
  ) as HTMLDialogElement
  document.body.append(dlg)
  return new Promise((resolve) => {
    let done = false
    const finish = (ok: boolean) => {
      if (done) return
      done = true
      dlg.close()
      dlg.remove()
      opener?.focus?.()
      resolve(ok)
    }
    cancel.addEventListener('click', () => finish(false))
    dlg.addEventListener('cancel', (ev) => {
      ev.preventDefault()
      finish(false)
    })
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault()
      submit.disabled = true
      try {
        const problem = await opts.onSubmit?.(form)
        if (problem) {
          error.textContent = problem
          return
        }
        finish(true)
      } catch (e) {
        error.textContent = (e as Error).message
      } finally {
        submit.disabled = false
      }
    })
    dlg.showModal()
    const first = form.querySelector('textarea, input, select') as HTMLElement | null
    ;(first ?? submit).focus()
  })
}

export function field(label: string, input: HTMLElement, hint?: string): HTMLElement {
  const id = input.id || `f-${++seq}`
  input.id = id
  const parts: (Node | string)[] = [h('label', { for: id }, label), input]
  if (hint) {
    input.setAttribute('aria-describedby', `${id}-hint`)
    parts.push(h('p', { class: 'hint', id: `${id}-hint` }, hint))
  }
  return h('div', { class: 'field' }, ...parts)
}
