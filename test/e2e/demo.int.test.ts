import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { DatabaseSync } from 'node:sqlite'
import { afterEach, describe, expect, it } from 'vitest'
import { ROOT, runCli } from '../helpers/cli.ts'
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

  it('runs in a temporary data dir unless told otherwise, and removes it when it stops', async () => {
    const cwd = tempDir('vitalwire-demo-cwd-')
    dataDir = cwd
    const env: Record<string, string | undefined> = {
      ...process.env,
      VITALWIRE_MQTT_PORT: '0',
      VITALWIRE_HTTP_PORT: '0',
      VITALWIRE_LOG_LEVEL: 'warn',
    }
    delete env.VITALWIRE_DATA_DIR
    child = spawn(process.execPath, [path.join(ROOT, 'cli', 'vitalwire.ts'), 'demo', '--json'], {
      cwd,
      env,
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream })
    const ready = await new Promise<Ready & { dataDir: string }>((resolve, reject) => {
      child?.once('exit', (code) => reject(new Error(`demo exited with ${code}`)))
      lines.on('line', (line) => {
        const m = JSON.parse(line)
        if (m.status === 'ready') resolve(m)
      })
    })
    // Not ./data, which `vitalwire start` uses: the demo's patients and admin login never land there.
    expect(ready.dataDir.startsWith(path.join(os.tmpdir(), 'vitalwire-demo-'))).toBe(true)
    expect(fs.existsSync(path.join(cwd, 'data'))).toBe(false)
    expect(fs.existsSync(path.join(ready.dataDir, 'vitalwire.db'))).toBe(true)
    const exited = new Promise((r) => child?.once('exit', r))
    child.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(fs.existsSync(ready.dataDir)).toBe(false)
  }, 90_000)

  it('refuses a data dir that holds patients of its own', async () => {
    dataDir = tempDir('vitalwire-demo-')
    const env = { VITALWIRE_DATA_DIR: dataDir }
    expect((await runCli(['patients', 'add', '--id', 'p1', '--name', 'Ada Lovelace'], env)).code).toBe(0)
    const r = await runCli(['demo'], { ...env, VITALWIRE_MQTT_PORT: '0', VITALWIRE_HTTP_PORT: '0' })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain(`${dataDir} holds 1 patients of its own`)
    expect(r.stderr).toContain('Unset VITALWIRE_DATA_DIR')
    // Nothing was added: still the one patient, no demo devices, no demo login.
    const db = new DatabaseSync(path.join(dataDir, 'vitalwire.db'), { readOnly: true })
    expect(db.prepare('SELECT id FROM patients').all()).toEqual([{ id: 'p1' }])
    expect(db.prepare('SELECT count(*) AS n FROM devices').get()).toEqual({ n: 0 })
    expect(db.prepare('SELECT count(*) AS n FROM users').get()).toEqual({ n: 0 })
    db.close()
  }, 60_000)
})
