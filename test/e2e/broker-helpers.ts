import { spawn } from 'node:child_process'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import tls from 'node:tls'
import type { MqttClient } from 'mqtt'
import type { Harness } from '../helpers/harness.ts'

// Helpers for the broker's integration tests: read the real audit table and /metrics, run the Debian
// mosquitto clients, and wait for conditions that have no event of their own (an audit row written by
// another connection) by checking them as they change, with a deadline.

export async function until<T>(
  check: () => T | undefined | Promise<T | undefined>,
  what: string,
  timeoutMs = 5000,
) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await check()
    if (v !== undefined && v !== false) return v as T
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 25))
  }
}

export interface AuditRow {
  actor: string
  action: string
  outcome: string
  target: string | null
  ip: string | null
  detail: string | null
}

export function auditRows(h: Harness): AuditRow[] {
  const db = new DatabaseSync(path.join(h.dataDir, 'vitalwire.db'), { readOnly: true })
  try {
    return db
      .prepare('SELECT actor, action, outcome, target, ip, detail FROM audit ORDER BY seq')
      .all() as any
  } finally {
    db.close()
  }
}

export function waitForAudit(h: Harness, match: (r: AuditRow) => boolean, what = 'an audit row') {
  return until(() => auditRows(h).find(match), what)
}

export function deviceRow(h: Harness, id: string): Record<string, any> | undefined {
  const db = new DatabaseSync(path.join(h.dataDir, 'vitalwire.db'), { readOnly: true })
  try {
    return db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as any
  } finally {
    db.close()
  }
}

/** vitalwire_mqtt_refused_total{reason} from the real /metrics endpoint. */
export async function refusedCount(h: Harness, reason: string): Promise<number> {
  const text = await (await fetch(`${h.httpUrl}/metrics`)).text()
  const m = text.match(new RegExp(`^vitalwire_mqtt_refused_total\\{reason="${reason}"\\} (\\d+)`, 'm'))
  return m ? Number(m[1]) : 0
}

export function closed(client: MqttClient): Promise<void> {
  return new Promise((resolve) => (client.connected ? client.once('close', () => resolve()) : resolve()))
}

export interface Run {
  code: number | null
  stdout: string
  stderr: string
}

/** Run a command to completion (mosquitto_pub, the vitalwire CLI), with a deadline. */
export function run(cmd: string, args: string[], env: Record<string, string> = {}, timeoutMs = 15_000) {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${cmd} did not finish within ${timeoutMs} ms: ${stdout} ${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** A long-running child (mosquitto_sub) whose output lines can be awaited. */
export function startChild(cmd: string, args: string[]) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const lines: string[] = []
  const waiters: (() => void)[] = []
  const onData = (d: Buffer) => {
    lines.push(...String(d).split('\n').filter(Boolean))
    for (const w of waiters.splice(0)) w()
  }
  child.stdout.on('data', onData)
  child.stderr.on('data', onData)
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)))
  return {
    lines,
    exited,
    line(match: (l: string) => boolean, timeoutMs = 5000): Promise<string> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no line matched; got ${lines.join(' | ')}`)),
          timeoutMs,
        )
        const check = () => {
          const l = lines.find(match)
          if (l !== undefined) {
            clearTimeout(timer)
            resolve(l)
          } else waiters.push(check)
        }
        check()
      })
    },
    stop() {
      child.kill('SIGTERM')
      return exited
    },
  }
}

/** A raw TLS socket to the broker, for bytes no MQTT library would send. */
export function rawTls(h: Harness, extra: tls.ConnectionOptions = {}): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const port = Number(new URL(h.mqttUrl).port)
    const s = tls.connect({ host: '127.0.0.1', port, ca: h.ca, servername: 'localhost', ...extra }, () =>
      resolve(s),
    )
    s.once('error', reject)
  })
}

/** Resolves when the peer closes the socket; with the number of bytes the peer sent meanwhile. */
export function socketClosed(s: tls.TLSSocket | import('node:net').Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) return resolve()
    s.once('close', () => resolve())
    s.on('error', () => {})
  })
}

export const CLI = path.join(import.meta.dirname, '..', '..', 'cli', 'vitalwire.ts')

/** Resolves when ingest commits the observation with this idempotency key (`{deviceId}:{readingId}`). */
export function observed(h: Harness, key: string, timeoutMs = 5000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      h.running.events.off('observations', on)
      reject(new Error(`observation ${key} not stored within ${timeoutMs} ms`))
    }, timeoutMs)
    const on = (list: { key: string }[]) => {
      if (!list.some((o) => o.key === key)) return
      clearTimeout(timer)
      h.running.events.off('observations', on)
      resolve()
    }
    h.running.events.on('observations', on)
  })
}

export const reading = (id: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ id, type: 'heart-rate', ts: new Date().toISOString(), value: 70, unit: 'bpm', ...extra })
