import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { findBinary } from './requirements.ts'

// A real influxd (Debian package `influxdb`, 1.x) on free loopback ports with a temporary data dir and
// config file. `stop()` and `start()` keep the data dir and port, so tests can take InfluxDB away
// under load and bring it back. `close()` stops it and removes everything.

export interface Influxd {
  url: string
  dataDir: string
  /** The running influxd's process id (benchmarks read its CPU time from /proc). */
  pid(): number | undefined
  start(): Promise<void>
  stop(): Promise<void>
  /** Run InfluxQL statements (e.g. CREATE DATABASE) and return the parsed JSON. */
  query(q: string, db?: string): Promise<any>
  /** Write raw line protocol (ns precision), for fixtures. */
  write(db: string, lines: string): Promise<Response>
  close(): Promise<void>
}

const READY_TIMEOUT_MS = 20_000

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo
      srv.close(() => resolve(port))
    })
  })
}

function configFile(dir: string, httpPort: number, rpcPort: number): string {
  return `reporting-disabled = true
bind-address = "127.0.0.1:${rpcPort}"
[meta]
  dir = "${dir}/meta"
[data]
  dir = "${dir}/data"
  wal-dir = "${dir}/wal"
  query-log-enabled = false
[coordinator]
  max-select-point = 0
[retention]
  enabled = false
[monitor]
  store-enabled = false
[subscriber]
  enabled = false
[continuous_queries]
  enabled = false
[http]
  enabled = true
  bind-address = "127.0.0.1:${httpPort}"
  log-enabled = false
  max-row-limit = 0
[logging]
  level = "warn"
`
}

/** Poll a condition (errors count as false) until it holds; throws naming `what` on timeout. */
export async function waitFor(
  cond: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
  what = 'condition',
) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (
      await Promise.resolve()
        .then(cond)
        .catch(() => false)
    )
      return
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

export async function startInfluxd(): Promise<Influxd> {
  const bin = findBinary('influxd')
  if (!bin) throw new Error('influxd not found (call requireBinary("influxd") first)')
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-influxd-'))
  const httpPort = await freePort()
  const conf = path.join(dataDir, 'influxdb.conf')
  fs.writeFileSync(conf, configFile(dataDir, httpPort, await freePort()))
  const url = `http://127.0.0.1:${httpPort}`
  let child: ChildProcess | undefined
  let stderr = ''

  const ping = async () => (await fetch(`${url}/ping`)).status === 204
  const h: Influxd = {
    url,
    dataDir,
    pid: () => child?.pid,
    async start() {
      if (child) return
      stderr = ''
      const c = spawn(bin, ['-config', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
      c.stderr?.on('data', (d) => {
        stderr = (stderr + d).slice(-4000)
      })
      child = c
      const exited = new Promise<never>((_, reject) =>
        c.once('exit', (code) => reject(new Error(`influxd exited (${code}): ${stderr}`))),
      )
      exited.catch(() => {})
      await Promise.race([waitFor(ping, READY_TIMEOUT_MS, 'influxd /ping'), exited])
    },
    async stop() {
      const c = child
      if (!c) return
      child = undefined
      if (c.exitCode !== null || c.signalCode !== null) return
      const gone = new Promise((r) => c.once('exit', r))
      c.kill('SIGTERM')
      await gone
    },
    async query(q, db) {
      const body = new URLSearchParams({ q, ...(db ? { db } : {}) })
      const res = await fetch(`${url}/query`, { method: 'POST', body })
      const json = await res.json()
      if (!res.ok || json.results?.some((r: any) => r.error)) {
        throw new Error(`influx query failed: ${JSON.stringify(json)}`)
      }
      return json
    },
    write(db, lines) {
      return fetch(`${url}/write?db=${encodeURIComponent(db)}&precision=ns`, { method: 'POST', body: lines })
    },
    async close() {
      await h.stop()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
  await h.start()
  return h
}
