import { soundToggle } from './banner.ts'
import { h } from './dom.ts'
import type { Session } from './login.ts'
import { type Prefs, savePrefs } from './prefs.ts'

// The header: navigation, unit choices (always visible, so nobody has to guess which unit a screen
// shows), sound, live state, who is signed in.

export function renderShell(
  session: Session,
  prefs: Prefs,
  on: { prefsChanged: () => void; soundOn: () => void },
) {
  const nav = document.getElementById('nav')!
  const links: [string, string][] = [['#/', 'Worklist']]
  if (session.role === 'admin')
    links.push(['#/admin/patients', 'Patients'], ['#/admin/devices', 'Devices'], ['#/admin/users', 'Users'])
  nav.replaceChildren(...links.map(([href, text]) => h('a', { href }, text)))
  nav.hidden = false
  markCurrent()

  const glucose = select('unit-glucose', 'Glucose unit', [
    ['mg/dL', 'mg/dL'],
    ['mmol/L', 'mmol/L'],
  ])
  glucose.value = prefs.glucose
  const temp = select('unit-temp', 'Temperature unit', [
    ['Cel', '°C'],
    ['[degF]', '°F'],
  ])
  temp.value = prefs.temperature
  const change = () => {
    prefs.glucose = glucose.value as Prefs['glucose']
    prefs.temperature = temp.value as Prefs['temperature']
    savePrefs(prefs)
    on.prefsChanged()
  }
  glucose.addEventListener('change', change)
  temp.addEventListener('change', change)
  const sound = soundToggle(prefs.sound, (enabled) => {
    prefs.sound = enabled
    savePrefs(prefs)
    if (enabled) on.soundOn()
  })
  const controls = document.getElementById('controls')!
  controls.replaceChildren(
    h('label', { for: 'unit-glucose' }, 'Glucose'),
    glucose,
    h('label', { for: 'unit-temp' }, 'Temp'),
    temp,
    sound,
  )
  controls.hidden = false
  document.getElementById('who')!.textContent = `${session.email} (${session.role})`
  document.getElementById('logout')!.hidden = false
}

export function markCurrent() {
  const hash = location.hash || '#/'
  for (const a of document.querySelectorAll<HTMLAnchorElement>('#nav a')) {
    const href = a.getAttribute('href')!
    const current = href === '#/' ? hash === '#/' || hash.startsWith('#/patients') : hash.startsWith(href)
    if (current) a.setAttribute('aria-current', 'page')
    else a.removeAttribute('aria-current')
  }
}

export function hideShell() {
  for (const id of ['nav', 'controls', 'live', 'logout']) document.getElementById(id)!.hidden = true
  document.getElementById('who')!.textContent = ''
}

export function setLive(state: 'live' | 'down' | 'connecting', since?: Date) {
  const badge = document.getElementById('live')!
  badge.hidden = false
  badge.className = `live ${state}`
  badge.textContent =
    state === 'live'
      ? '● Live'
      : state === 'connecting'
        ? '○ Connecting…'
        : `✕ NOT LIVE — reconnecting${since ? ` (data as of ${since.toLocaleTimeString()})` : ''}`
  document.body.classList.toggle('offline', state === 'down')
}

function select(id: string, label: string, options: [string, string][]): HTMLSelectElement {
  return h(
    'select',
    { id, 'aria-label': label },
    ...options.map(([v, t]) => h('option', { value: v }, t)),
  ) as HTMLSelectElement
}
