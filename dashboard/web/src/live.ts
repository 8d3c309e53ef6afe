// The live connection: reconnects by itself with backoff and says when it is not live.
export function connectLive(opts: {
  onMessage: (m: any) => void
  onState: (s: 'live' | 'down') => void
  onUnauthorized: () => void
}) {
  let ws: WebSocket | undefined
  let closed = false
  let attempt = 0
  function open() {
    const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`
    ws = new WebSocket(url)
    ws.onopen = () => {
      attempt = 0
    }
    ws.onmessage = (ev) => {
      const m = JSON.parse(ev.data)
      if (m.type === 'hello') opts.onState('live')
      else opts.onMessage(m)
    }
    ws.onclose = async () => {
      if (closed) return
      opts.onState('down')
      const check = await fetch('/api/session', { credentials: 'same-origin' }).catch(() => undefined)
      if (check?.status === 401) {
        closed = true
        opts.onUnauthorized()
        return
      }
      attempt++
      setTimeout(open, Math.min(10_000, 500 * 2 ** Math.min(attempt, 5)))
    }
  }
  open()
  return {
    close() {
      closed = true
      ws?.close()
    },
  }
}
