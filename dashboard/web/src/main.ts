// The coordinator's screen: login, then a live worklist (who needs attention now) and the alert feed.

import { renderAlerts } from './alerts.ts'
import { ApiError, api } from './api.ts'
import { clear, h } from './dom.ts'
import { connectLive } from './live.ts'
import { createStore, type Store } from './store.ts'
import { renderWorklist } from './worklist.ts'

const main = document.getElementById('main')!
const who = document.getElementById('who')!
const logout = document.getElementById('logout') as HTMLButtonElement
const liveBadge = document.getElementById('live')!

async function boot() {
  try {
    const session = await api<{ email: string; role: string; idleTimeoutMs: number }>('GET', '/api/session')
    await showApp(session)
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) showLogin()
    else showError(e)
  }
}

function showError(e: unknown) {
  clear(main).append(
    h('p', { class: 'error', role: 'alert' }, `Something went wrong: ${(e as Error).message}`),
  )
}

function showLogin(message?: string) {
  who.textContent = ''
  logout.hidden = true
  liveBadge.hidden = true
  const error = h('p', { class: 'error', role: 'alert', id: 'login-error' }, message ?? '')
  const email = h('input', {
    id: 'email',
    name: 'email',
    type: 'email',
    autocomplete: 'username',
    required: '',
  }) as HTMLInputElement
  const password = h('input', {
    id: 'password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: '',
  }) as HTMLInputElement
  const form = h(
    'form',
    { class: 'login', 'aria-labelledby': 'login-title' },
    h('h2', { id: 'login-title' }, 'Sign in'),
    h('label', { for: 'email' }, 'Email'),
    email,
    h('label', { for: 'password' }, 'Password'),
    password,
    error,
    h('button', { type: 'submit' }, 'Sign in'),
  ) as HTMLFormElement
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault()
    error.textContent = ''
    try {
      const s = await api<{ email: string; role: string; idleTimeoutMs: number }>('POST', '/api/session', {
        email: email.value,
        password: password.value,
      })
      await showApp(s)
    } catch (e) {
      error.textContent = e instanceof ApiError ? e.message : 'Cannot reach the server'
      password.value = ''
      password.focus()
    }
  })
  clear(main).append(form)
  email.focus()
}

async function showApp(session: { email: string; role: string; idleTimeoutMs: number }) {
  who.textContent = `${session.email} (${session.role})`
  logout.hidden = false
  const store: Store = createStore()
  const worklist = h('section', { class: 'worklist', 'aria-labelledby': 'wl-title' })
  const feed = h('section', { class: 'feed', 'aria-labelledby': 'feed-title' })
  clear(main).append(h('div', { class: 'layout' }, worklist, feed))
  const render = () => {
    renderWorklist(worklist, store)
    renderAlerts(feed, store, { onChange: refresh })
  }
  async function refresh() {
    const [p, a] = await Promise.all([
      api<{ patients: any[] }>('GET', '/api/patients'),
      api<{ alerts: any[] }>('GET', '/api/alerts?limit=500'),
    ])
    store.load(p.patients, a.alerts)
    render()
  }
  await refresh()
  const live = connectLive({
    onMessage: (m) => {
      store.apply(m)
      store.schedule(render)
    },
    onState: (state) => {
      liveBadge.hidden = false
      liveBadge.textContent = state === 'live' ? 'Live' : 'Not live: reconnecting…'
      liveBadge.className = `live ${state}`
      if (state === 'live') void refresh()
    },
    onUnauthorized: () => showLogin('Your session ended. Please sign in again.'),
  })
  logout.onclick = async () => {
    live.close()
    await api('DELETE', '/api/session').catch(() => {})
    showLogin('Signed out.')
  }
}

void boot()
