import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import readline from 'node:readline'
import { afterEach, describe, expect, it } from 'vitest'
import { tempDir } from '../helpers/harness.ts'

// `vitalwire demo` as a developer runs it: a child process, the printed login, the dashboard API.

interface Ready {
  status: string
  http: string
  demo: { email: string; password: string }
}

describe('vitalwire demo', () => {
  let child: ChildProcess | undefined
  let dataDir: string | undefined
  afterEach(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child?.once('exit', r))
      child.kill('SIGTERM')
      await exited
    }
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true })
  })

  it('starts the server and a demo fleet; an open alert is visible to the printed admin login within 60 s', async () => {
    dataDir = tempDir('vitalwire-demo-')
    const started = Date.now()
    child = spawn(process.execPath, ['cli/vitalwire.ts', 'demo', '--json'], {
      env: {
        ...process.env,
        VITALWIRE_DATA_DIR: dataDir,
        VITALWIRE_MQTT_PORT: '0',
        VITALWIRE_HTTP_PORT: '0',
        VITALWIRE_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream })
    const ready = await new Promise<Ready>((resolve, reject) => {
      child?.once('exit', (code) => reject(new Error(`demo exited with ${code}`)))
      lines.on('line', (line) => {
        const m = JSON.parse(line) as Ready
        if (m.status === 'ready') resolve(m)
      })
    })
    expect(ready.demo.email).toMatch(/@/)

    const res = await fetch(`${ready.http}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(ready.demo),
    })
    expect(res.status).toBe(201)
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0])
      .join('; ')

    // Poll the public API as the dashboard does, until the first alert or 60 s after start.
    let alerts: { rule: string; status: string }[] = []
    while (alerts.length === 0 && Date.now() - started < 60_000) {
      const r = await fetch(`${ready.http}/api/alerts?status=open`, { headers: { cookie } })
      expect(r.status).toBe(200)
      alerts = ((await r.json()) as { alerts: typeof alerts }).alerts
      if (alerts.length === 0) await new Promise((r) => setTimeout(r, 500))
    }
    expect(alerts.length).toBeGreaterThan(0)
    expect(alerts[0].status).toBe('open')
  }, 90_000)
})
