import { alertText } from './alert-text.ts'
import { api } from './api.ts'
import { button, h, keepFocus } from './dom.ts'
import type { Prefs } from './prefs.ts'
import type { AlertItem, Store } from './store.ts'

// A new critical alert must be impossible to miss: a banner that stays until every critical alert is
// acknowledged, an announcement in an assertive live region (focus is never moved: the user may be
// typing a note), the tab title, and a tone, only if the user switched sound on (browsers allow audio
// only after a user gesture, and an unexpected sound on a ward is its own problem).
// The banner appears at once, whatever the alert feed and worklist hold back while the user works in them
// (freeze.ts), and in a slot of fixed height that is always there once signed in (styles.css
// .critical-slot), showing "no unacknowledged critical alerts" when calm: its appearance moves nothing
// below it. (In the page flow it pushed the whole page down by its height: a layout shift of everything
// on screen, under the pointer, at the very moment a critical alert arrived.)

export function createCriticalBanner(store: Store, prefs: Prefs) {
  const banner = document.getElementById('critical')!
  const calm = document.getElementById('critical-calm')!
  const announcer = document.getElementById('announce')!
  const baseTitle = document.title
  let audio: AudioContext | undefined
  let shown = ''

  function render() {
    const open = [...store.alerts.values()]
      .filter((a) => a.severity === 'critical' && a.status === 'open')
      .sort((a, b) => Date.parse(b.openedAt) - Date.parse(a.openedAt))
    // Only real changes touch the DOM: this runs on every alert update, and setting the title (even to
    // the same text) replaces its text node and tells the browser process.
    const title = open.length ? `(${open.length} CRITICAL) ${baseTitle}` : baseTitle
    if (document.title !== title) document.title = title
    const show = () => {
      if (banner.hidden !== (open.length === 0)) banner.hidden = open.length === 0
      if (calm.hidden !== open.length > 0) calm.hidden = open.length > 0
    }
    const a = open[0]
    const name = a ? (store.patients.get(a.patientId)?.name ?? a.patientId) : ''
    const sig = a ? `${open.length}|${a.id}|${name}|${alertText(a.message, prefs)}` : ''
    if (sig === shown) return show()
    shown = sig
    // Redrawn under the keyboard focus: its Acknowledge button keeps it while the banner shows the same
    // alert. When the banner shows another one (acknowledged, or a newer one came), focus never lands on
    // the other alert's Acknowledge (one keypress from acknowledging the wrong alert): the banner itself
    // gets it, and reads which alert it now shows; with none left, the calm line, saying so.
    keepFocus(
      banner,
      () => {
        banner.replaceChildren(...(a ? content(a, open.length, name) : []))
        show()
      },
      () => (a ? banner : calm),
    )
  }

  function content(a: AlertItem, count: number, name: string): (Node | string)[] {
    return [
      h('strong', {}, `✖ CRITICAL ALERT${count > 1 ? `S (${count})` : ''}`),
      // One line (the slot's height is fixed): a long message ends in an ellipsis; the full text is in the
      // title, the assertive announcement and the alert feed.
      h(
        'span',
        { class: 'msg', title: `${name}: ${alertText(a.message, prefs)}` },
        ` ${name}: ${alertText(a.message, prefs)}`,
      ),
      // Acknowledged from here, wherever the user is (the patient page has no alert feed).
      button(
        'Acknowledge',
        async () => {
          try {
            store.setAlert(await api<AlertItem>('POST', `/api/alerts/${encodeURIComponent(a.id)}/ack`, {}))
            render()
          } catch (e) {
            // Never silent: the alert stays in the banner, and the button says why in words.
            const b = banner.querySelector<HTMLButtonElement>('button.ack')
            if (b) b.textContent = `Could not acknowledge (${(e as Error).message}): retry`
          }
        },
        {
          class: 'ack',
          'aria-label': `Acknowledge the critical alert for ${name}`,
          'data-focus-key': `ack:${a.id}`,
        },
      ),
      h(
        'a',
        {
          href: `#/patients/${encodeURIComponent(a.patientId)}`,
          class: 'button',
          'data-focus-key': `open:${a.id}`,
        },
        'Open patient',
      ),
    ]
  }

  function announce(a: AlertItem) {
    const name = store.patients.get(a.patientId)?.name ?? a.patientId
    // Clear first so the same text twice is still announced.
    announcer.textContent = ''
    setTimeout(() => {
      announcer.textContent = `Critical alert for ${name}: ${alertText(a.message, prefs)}`
    }, 50)
    if (prefs.sound) beep()
  }

  function beep() {
    try {
      audio ??= new AudioContext()
      const osc = audio.createOscillator()
      const gain = audio.createGain()
      osc.frequency.value = 880
      gain.gain.value = 0.15
      osc.connect(gain).connect(audio.destination)
      const t = audio.currentTime
      osc.start(t)
      osc.stop(t + 0.6)
    } catch {
      // No audio device: the banner and the announcement still carry the alert.
    }
  }

  // Announced (and the tone played) when an alert becomes an open critical one: a new alert, or one
  // that got worse (raised to critical, which also reopens an acknowledged one).
  const openCritical = (a: AlertItem | undefined) => a?.severity === 'critical' && a.status === 'open'
  const off = store.subscribe((m, prev) => {
    if ((m.type === 'alert' || m.type === 'alert-updated') && openCritical(m.alert) && !openCritical(prev))
      announce(m.alert)
  })
  return {
    render,
    /** Announce (and sound) an open critical alert found other than by a live message (a reload). */
    announce,
    /** Called from the click that enables sound: creating the AudioContext there unlocks audio. */
    unlockAudio() {
      audio ??= new AudioContext()
      void audio.resume()
    },
    testTone: beep,
    close() {
      off()
      banner.hidden = true
      calm.hidden = true
      banner.replaceChildren()
      shown = ''
      document.title = baseTitle
    },
  }
}

export function soundToggle(enabled: boolean, onToggle: (on: boolean) => void): HTMLButtonElement {
  const b = button('', () => {
    const on = b.getAttribute('aria-pressed') !== 'true'
    set(on)
    onToggle(on)
  })
  b.id = 'sound'
  const set = (on: boolean) => {
    b.setAttribute('aria-pressed', String(on))
    b.textContent = on ? '♪ Sound: on' : 'Sound: off'
  }
  set(enabled)
  return b
}
