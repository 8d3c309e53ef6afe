import { h } from './dom.ts'

// Modal dialogs on the native <dialog> element: focus moves in and is trapped by the browser, Escape
// cancels, and focus returns to the control that opened it (or, when a live update rebuilt that control
// while the dialog was open, to its new copy: dom.ts keepFocus). Never window.prompt/confirm.

let seq = 0
/** How to cancel each dialog that is open. */
const openNow = new Set<() => void>()

/** Cancel every open dialog (signing out: nothing of the session may stay on screen). */
export function closeDialogs() {
  for (const cancel of [...openNow]) cancel()
}

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
  const giveBack = returnFocus(opener)
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
      openNow.delete(dismiss)
      dlg.close()
      dlg.remove()
      giveBack()
      resolve(ok)
    }
    const dismiss = () => finish(false)
    openNow.add(dismiss)
    cancel.addEventListener('click', dismiss)
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

/**
 * Focus back to `opener`; if it was removed meanwhile, to the element with its `data-focus-key` in the
 * nearest of its former containers still on the page (only when exactly one has it: a key that is unique
 * only within its row, like the alert feed's "resolve", could otherwise land on another row's button).
 */
function returnFocus(opener: HTMLElement | null): () => void {
  const key = opener?.getAttribute('data-focus-key')
  const containers: HTMLElement[] = []
  for (let e = opener?.parentElement; e; e = e.parentElement) containers.push(e)
  return () => {
    if (!opener || opener.isConnected) return opener?.focus?.()
    const scope = containers.find((c) => c.isConnected)
    const same =
      key && scope ? scope.querySelectorAll<HTMLElement>(`[data-focus-key="${CSS.escape(key)}"]`) : []
    if (same.length === 1) same[0].focus()
  }
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
