import { ApiError, api } from './api.ts'
import { field } from './dialog.ts'
import { clear, h } from './dom.ts'

export interface Session {
  email: string
  role: 'admin' | 'coordinator' | 'clinician'
  mustChangePassword: boolean
  idleTimeoutMs: number
}

function input(attrs: Record<string, string>): HTMLInputElement {
  return h('input', { required: '', ...attrs }) as HTMLInputElement
}

export function showLogin(main: HTMLElement, onSession: (s: Session) => void, message?: string) {
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' }, message ?? '')
  const email = input({ id: 'email', name: 'email', type: 'email', autocomplete: 'username' })
  const password = input({
    id: 'password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
  })
  const form = h(
    'form',
    { class: 'card login', 'aria-labelledby': 'login-title' },
    h('h2', { id: 'login-title' }, 'Sign in'),
    field('Email', email),
    field('Password', password),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Sign in'),
  ) as HTMLFormElement
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    error.textContent = ''
    try {
      onSession(await api<Session>('POST', '/api/session', { email: email.value, password: password.value }))
    } catch (e) {
      error.textContent = e instanceof ApiError ? e.message : 'Cannot reach the server'
      password.value = ''
      password.focus()
    }
  })
  clear(main).append(form)
  email.focus()
}

/** A first sign-in with a one-time password must set a new one before seeing any patient. */
export function showChangePassword(main: HTMLElement, session: Session, onDone: () => void) {
  const error = h('p', { class: 'error', role: 'alert', id: 'pw-error' })
  const current = input({ id: 'pw-current', type: 'password', autocomplete: 'current-password' })
  const next = input({ id: 'pw-next', type: 'password', autocomplete: 'new-password', minlength: '12' })
  const again = input({ id: 'pw-again', type: 'password', autocomplete: 'new-password', minlength: '12' })
  const form = h(
    'form',
    { class: 'card login', 'aria-labelledby': 'pw-title' },
    h('h2', { id: 'pw-title' }, 'Choose a new password'),
    h('p', {}, `Signed in as ${session.email} with a one-time password. Set your own to continue.`),
    field('Current (one-time) password', current),
    field('New password', next, 'At least 12 characters and hard to guess: a few unrelated words work well.'),
    field('New password again', again),
    error,
    h('button', { type: 'submit', class: 'primary' }, 'Set password'),
  ) as HTMLFormElement
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    error.textContent = ''
    if (next.value !== again.value) {
      error.textContent = 'The two new passwords differ.'
      again.focus()
      return
    }
    if (next.value === current.value) {
      error.textContent = 'The new password must differ from the current one.'
      next.focus()
      return
    }
    try {
      await api('POST', '/api/session/password', { current: current.value, next: next.value })
      onDone()
    } catch (e) {
      error.textContent = e instanceof ApiError ? e.message : 'Cannot reach the server'
    }
  })
  clear(main).append(form)
  current.focus()
}
