import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'

// The system under test, started exactly as an operator does (`vitalwire start --json`) in its own
// process, so its memory can be read from /proc and the load generator does not share its event loop.

const ROOT = path.resolve(import.meta.dirname, '..', '..')

export interface RunningServer {
  mqttUrl: string
  httpUrl: string
  caCert: string
  dataDir: string
  pid: number
  /** Resident set size of the server process, from /proc/<pid>/status. */
  rssBytes(): number
  stop(): Promise<void>
}

export async function startServer(dataDir: string, env: Record<string, string> = {}): Promise<RunningServer> {
  const child = spawn(process.execPath, [path.join(ROOT, 'cli', 'vitalwire.ts'), 'start', '--json'], {
    cwd: ROOT,
    env: {
      ...process.env,
      VITALWIRE_DATA_DIR: dataDir,
      VITALWIRE_MQTT_PORT: '0',
      VITALWIRE_HTTP_PORT: '0',
      VITALWIRE_LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stderr = ''
  child.stderr?.on('data', (d) => (stderr = (stderr + d).slice(-4000)))
  const lines = readline.createInterface({ input: child.stdout as NodeJS.ReadableStream })
  const ready = await new Promise<{ mqtts: string; http: string; ca: string }>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`vitalwire exited with ${code}: ${stderr}`)))
    lines.on('line', (line) => {
      try {
        const m = JSON.parse(line)
        if (m.status === 'ready') resolve(m)
      } catch {}
    })
  })
  const port = new URL(ready.mqtts).port
  return {
    mqttUrl: `mqtts://localhost:${port}`,
    httpUrl: ready.http,
    caCert: ready.ca,
    dataDir,
    pid: child.pid as number,
    rssBytes() {
      const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8')
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024
    },
    async stop() {
      if (child.exitCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    },
  }
}
