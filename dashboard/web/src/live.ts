// The live connection: reconnects by itself with capped backoff and says when it is not live. On every
// (re)connect the caller reloads the worklist, so nothing missed while down stays missing.
export function connectLive(opts: {
  onMessage: (m: any) => void
  onState: (s: 'live' | 'down') => void
  onUnauthorized: () => void
}) {
  let ws: WebSocket | undefined
  let closed = false
  let attempt = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  function open() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`
    ws = new WebSocket(url)
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data)
      if (m.type === 'hello') {
        attempt = 0
        opts.onState('live')
      } else opts.onMessage(m)
    }
    ws.onclose = async () => {
      if (closed) return
      opts.onState('down')
      const check = await fetch('/api/session', { credentials: 'same-origin' }).catch(() => undefined)
      if (closed) return
      if (check?.status === 401) {
        closed = true
        opts.onUnauthorized()
        return
      }
      attempt++
      timer = setTimeout(open, Math.min(5_000, 250 * 2 ** Math.min(attempt, 5)))
    }
  }
  open()
  return {
    close() {
      closed = true
      clearTimeout(timer)
      ws?.close()
    },
  }
}
