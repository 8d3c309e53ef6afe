import WebSocket from 'ws'

// A real WebSocket client that records every message, for waiting on pushes in tests.
export interface WsProbe {
  messages: any[]
  next(match: (m: any) => boolean, timeoutMs?: number): Promise<any>
  close(): void
}

export async function openWs(httpUrl: string, cookie: string): Promise<WsProbe> {
  const ws = new WebSocket(`${httpUrl.replace(/^http/, 'ws')}/ws`, { headers: { cookie } })
  const messages: any[] = []
  const waiters = new Set<{ match: (m: any) => boolean; resolve: (m: any) => void }>()
  ws.on('message', (data) => {
    const m = JSON.parse(String(data))
    messages.push(m)
    for (const w of waiters) {
      if (!w.match(m)) continue
      waiters.delete(w)
      w.resolve(m)
    }
  })
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject)
    ws.once('unexpected-response', (_req, res) => reject(new Error(`WebSocket refused: ${res.statusCode}`)))
    ws.once('open', () => resolve())
  })
  return {
    messages,
    next(match, timeoutMs = 5000) {
      const seen = messages.find(match)
      if (seen) return Promise.resolve(seen)
      return new Promise((resolve, reject) => {
        const w = { match, resolve }
        waiters.add(w)
        setTimeout(() => {
          if (waiters.delete(w))
            reject(
              new Error(
                `no matching WebSocket message within ${timeoutMs} ms; got ${JSON.stringify(messages.map((x) => x.type))}`,
              ),
            )
        }, timeoutMs)
      })
    },
    close() {
      ws.close()
    },
  }
}
