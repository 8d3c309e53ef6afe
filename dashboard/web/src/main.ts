// The coordinator's screen: sign-in, then a live worklist (who needs attention now), the alert feed,
// patient views and admin pages behind hash routes (#/, #/patients/:id, #/admin/...).

import { ApiError, api } from './api.ts'
import { createCriticalBanner } from './banner.ts'
import { closeDialogs } from './dialog.ts'
import { clear, h } from './dom.ts'
import { startIdleWatch } from './idle.ts'
import { connectLive } from './live.ts'
import { type Session, showChangePassword, showLogin } from './login.ts'
import { loadPrefs } from './prefs.ts'
import { mountRoute, type View } from './routes.ts'
import { hideShell, markCurrent, renderShell, setLive } from './shell.ts'
import { type AlertItem, createStore, type PatientRow } from './store.ts'
import { startSystemStatus } from './system-status.ts'

const main = document.getElementById('main')!
const logoutButton = document.getElementById('logout') as HTMLButtonElement
let teardown: (() => void) | undefined

async function boot() {
  // The skip link moves focus to the content; following its #main would be a route (no such page).
  document.querySelector('a.skip')?.addEventListener('click', (e) => {
    e.preventDefault()
    document.getElementById('main')?.focus()
  })
  try {
    await onSession(await api<Session>('GET', '/api/session'))
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) signIn()
    else showError(e)
  }
}

function showError(e: unknown) {
  clear(main).append(
    h('p', { class: 'error', role: 'alert' }, `Something went wrong: ${(e as Error).message}`),
  )
}

function signIn(message?: string) {
  teardown?.()
  teardown = undefined
  hideShell()
  showLogin(main, (s) => void onSession(s), message)
}

async function onSession(session: Session) {
  if (session.mustChangePassword)
    return showChangePassword(main, session, () => void onSession({ ...session, mustChangePassword: false }))
  await showApp(session)
}

const isOpenCritical = (a: AlertItem) => a.status === 'open' && a.severity === 'critical'

async function showApp(session: Session) {
  performance.mark('vw:app-start')
  const store = createStore()
  const prefs = loadPrefs()
  const banner = createCriticalBanner(store, prefs)
  const system = startSystemStatus(document.getElementById('system')!)
  let view: View | undefined
  let pending = false
  let closed = false
  let seen = { p: -1, a: -1, prefs: '' }
  let lastMessageAt: Date | undefined

  // One render per animation frame however many messages arrive: a stream never janks the page.
  const schedule = (force = false) => {
    if (force) seen = { p: -1, a: -1, prefs: '' }
    if (pending) return
    pending = true
    requestAnimationFrame(() => {
      pending = false
      // Signed out meanwhile: nothing of this session may be drawn again (a banner on the sign-in page).
      if (closed) return
      const prefSig = `${prefs.glucose}|${prefs.temperature}`
      const changed = {
        patients: seen.p !== store.version.patients || seen.prefs !== prefSig,
        alerts: seen.a !== store.version.alerts,
      }
      seen = { p: store.version.patients, a: store.version.alerts, prefs: prefSig }
      if (changed.alerts) banner.render()
      view?.render(changed)
    })
  }

  // Messages that arrive while the worklist is (re)loading are applied after it, so none is lost and
  // none is overwritten by the older snapshot.
  let buffer: any[] | undefined
  async function refresh() {
    buffer ??= []
    const known = new Set([...store.alerts.values()].filter(isOpenCritical).map((a) => a.id))
    const first = store.alerts.size === 0 && store.patients.size === 0
    try {
      const [p, open, acked] = await Promise.all([
        api<{ patients: PatientRow[] }>('GET', '/api/patients'),
        api<{ alerts: AlertItem[] }>('GET', '/api/alerts?status=open&limit=1000'),
        api<{ alerts: AlertItem[] }>('GET', '/api/alerts?status=acknowledged&limit=1000'),
      ])
      store.load(p.patients, [...open.alerts, ...acked.alerts])
      // Critical alerts that opened while this page was not connected: announced like live ones.
      if (!first) for (const a of open.alerts) if (isOpenCritical(a) && !known.has(a.id)) banner.announce(a)
    } finally {
      for (const m of buffer ?? []) store.apply(m)
      buffer = undefined
    }
    lastMessageAt = new Date()
    view?.reloaded?.()
    schedule(true)
  }

  renderShell(session, prefs, { prefsChanged: () => schedule(true), soundOn: () => banner.unlockAudio() })
  setLive('connecting')
  let wasDown = false
  const live = connectLive({
    onMessage: (m) => {
      lastMessageAt = new Date()
      // The viewer's care team changed: the worklist reloads (new patients appear, removed ones go).
      if (m.type === 'access-changed') return void refresh().catch(() => {})
      if (buffer) buffer.push(m)
      else store.apply(m)
      schedule()
    },
    onState: (state) => {
      setLive(state, lastMessageAt)
      // The first connection opens while the first load runs; only a re-connection needs a reload.
      if (state === 'live' && wasDown) void refresh().catch(() => {})
      if (state === 'down') wasDown = true
    },
    onUnauthorized: () => signIn('Your session ended. Please sign in again.'),
  })
  try {
    await refresh()
  } catch (e) {
    live.close()
    throw e
  }
  const ctx = { store, prefs, session, main, refresh }
  const route = () => {
    view?.close()
    markCurrent()
    view = mountRoute(location.hash, ctx)
    // Followed from a link in the page (the patient page's "← Worklist"), or just signed in: the control
    // that had the focus is gone with the old page. The new page's content gets it, not <body> (the top of
    // the document, for a keyboard or screen-reader user); a header link that was followed keeps it.
    if (!document.activeElement || document.activeElement === document.body) main.focus()
    schedule(true)
  }
  route()
  window.addEventListener('hashchange', route)
  const tick = setInterval(() => schedule(true), 60_000)

  const idle = startIdleWatch({
    idleMs: session.idleTimeoutMs,
    onExpire: () => void signOut('You were signed out after a period of inactivity.'),
  })
  teardown = () => {
    closed = true
    live.close()
    idle.stop()
    banner.close()
    system.close()
    clearInterval(tick)
    view?.close()
    view = undefined
    window.removeEventListener('hashchange', route)
    // An open dialog (a resolution note) names a patient: it must not stay over the sign-in page.
    closeDialogs()
  }
  async function signOut(message: string) {
    teardown?.()
    teardown = undefined
    await api('DELETE', '/api/session').catch(() => {})
    signIn(message)
  }
  logoutButton.onclick = () => void signOut('Signed out.')
}

void boot()
