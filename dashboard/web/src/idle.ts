import { button, h } from './dom.ts'

// Idle logoff: the server ends a session after idleTimeoutMs without a request (rolling cookie). Activity
// here (keys, clicks, scrolling) keeps it alive by touching GET /api/session now and then; a warning with
// a countdown comes WARN_MS before the end, and at the end the page signs out by itself, so an unattended
// screen never keeps showing patient data.

export function warnBeforeMs(idleMs: number): number {
  return Math.min(60_000, Math.floor(idleMs / 4))
}

export function startIdleWatch(opts: { idleMs: number; onExpire: () => void }) {
  const warnMs = warnBeforeMs(opts.idleMs)
  const touchEveryMs = Math.min(60_000, Math.floor(opts.idleMs / 4))
  let lastActivity = Date.now()
  let lastTouch = Date.now()
  let dialog: HTMLDialogElement | undefined
  let countdown: HTMLElement | undefined

  const touch = () => {
    lastTouch = Date.now()
    void fetch('/api/session', { credentials: 'same-origin' }).catch(() => {})
  }
  const onActivity = () => {
    lastActivity = Date.now()
    if (dialog) hideWarning()
    if (lastActivity - lastTouch > touchEveryMs) touch()
  }
  const events = ['keydown', 'pointerdown', 'wheel', 'touchstart']
  for (const e of events) window.addEventListener(e, onActivity, { capture: true, passive: true })

  function showWarning() {
    countdown = h('p', { id: 'idle-countdown' })
    const stay = button('Stay signed in', () => onActivity())
    stay.id = 'idle-stay'
    dialog = h(
      'dialog',
      {
        role: 'alertdialog',
        'aria-labelledby': 'idle-title',
        'aria-describedby': 'idle-countdown',
        id: 'idle',
      },
      h('h2', { id: 'idle-title' }, 'Still there?'),
      countdown,
      h('div', { class: 'actions' }, stay),
    ) as HTMLDialogElement
    dialog.addEventListener('cancel', (ev) => {
      ev.preventDefault()
      onActivity()
    })
    document.body.append(dialog)
    dialog.showModal()
    stay.focus()
  }
  function hideWarning() {
    dialog?.close()
    dialog?.remove()
    dialog = undefined
  }

  const timer = setInterval(() => {
    const idle = Date.now() - lastActivity
    if (idle >= opts.idleMs) {
      stop()
      opts.onExpire()
      return
    }
    if (idle >= opts.idleMs - warnMs) {
      if (!dialog) showWarning()
      const s = Math.ceil((opts.idleMs - idle) / 1000)
      countdown!.textContent = `For patient privacy you will be signed out in ${s} s unless you continue.`
    }
  }, 1000)

  function stop() {
    clearInterval(timer)
    hideWarning()
    for (const e of events) window.removeEventListener(e, onActivity, { capture: true })
  }
  return { stop }
}
