// What the care team must know about Vitalwire itself: a part that fails must never leave a screen that
// looks normal. The server's readiness checks (/readyz, public and free of patient data) are read every
// POLL_MS; a check that is down or degraded becomes a plain sentence in a banner under the header, with
// the server's detail for whoever they report it to. The banner goes when the checks are fine again.
// An unreachable server is the live indicator's job (shell.ts), not this banner's.

import { h } from './dom.ts'

const POLL_MS = 10_000

interface Check {
  ok: boolean
  degraded?: boolean
  detail?: string
}

/** The sentence for a check that is down or degraded, by check name (server: main.ts health). */
function sentence(name: string, c: Check): string {
  if (name === 'storage')
    return c.ok
      ? "The server's database needs attention: it may run out of disk space."
      : 'Readings are not being received: the server cannot save them. Alerts cannot fire for new readings.'
  if (name === 'alerts') return 'Alerting has a problem: alerts may be missing or may not reach on call.'
  if (name === 'influx')
    return 'Reading history may be incomplete: readings are waiting to reach the history database.'
  if (name === 'broker') return 'Devices cannot connect: readings are not being received.'
  if (name === 'registry')
    return 'Changes to devices, patients and care teams made elsewhere are not being applied.'
  return c.ok ? `Part of Vitalwire (${name}) is degraded.` : `Part of Vitalwire (${name}) is not working.`
}

export function startSystemStatus(el: HTMLElement) {
  let last = ''
  async function poll() {
    let checks: Record<string, Check>
    try {
      // Without the session cookie: /readyz is public, and a request with it would renew the session,
      // which then never idled out while this page was open.
      const res = await fetch('/readyz', { credentials: 'omit' })
      checks = ((await res.json()) as { checks?: Record<string, Check> }).checks ?? {}
    } catch {
      return // server unreachable: the live indicator says so
    }
    const bad = Object.entries(checks).filter(([, c]) => !c.ok || c.degraded)
    const signature = JSON.stringify(bad)
    if (signature === last) return
    last = signature
    el.hidden = bad.length === 0
    el.replaceChildren(
      ...bad.map(([name, c]) =>
        h(
          'span',
          { class: 'system-item', 'data-check': name },
          h('strong', {}, sentence(name, c)),
          ' Tell your administrator.',
          ...(c.detail ? [h('small', {}, ` (${c.detail})`)] : []),
        ),
      ),
    )
  }
  void poll()
  const timer = setInterval(() => void poll(), POLL_MS)
  return {
    close() {
      clearInterval(timer)
      el.hidden = true
      el.replaceChildren()
    },
  }
}
