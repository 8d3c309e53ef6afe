import fs from 'node:fs'
import { Session } from 'node:inspector/promises'
import path from 'node:path'
import { COMPONENTS, startVitalwire } from '../../main.ts'
import { loadConfig } from '../../shared/config.ts'
import { createLogger } from '../../shared/logger.ts'

// The server child process (`node bench/broker.ts --server`), run with --expose-gc so the load
// generator's memory is separate. The parent asks it over IPC for memory, connection counts and CPU time.

export type Mem = { rss: number; heapUsed: number; external: number }

// --profile DIR: the server's CPU profile of each connect phase alone, as DIR/server-<phase>.cpuprofile
// (print the top functions with any .cpuprofile reader; the set-up and the disconnects are left out).
let inspector: Session | undefined
async function profile(dir: string, m: string) {
  if (!inspector) {
    inspector = new Session()
    inspector.connect()
    await inspector.post('Profiler.enable')
  }
  if (m === 'profile:start') return void (await inspector.post('Profiler.start'))
  const { profile: p } = await inspector.post('Profiler.stop')
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(path.join(dir, `server-${m.slice('profile:stop:'.length)}.cpuprofile`), JSON.stringify(p))
}

/** Child process: Vitalwire's broker (+ ingest) exactly as `vitalwire start --only broker,ingest`. */
export async function serve(profileDir: string | undefined) {
  const running = await startVitalwire(
    loadConfig(process.env),
    createLogger({ level: 'error' }),
    new Set(COMPONENTS.filter((c) => c === 'broker' || c === 'ingest')),
  )
  let connected = 0
  running.events.on('device-status', (s) => {
    if (s.battery === undefined) connected += s.connected ? 1 : -1
  })
  process.on('message', (m: string) => {
    if (m === 'mem') {
      for (let i = 0; i < 3; i++) globalThis.gc?.()
      const u = process.memoryUsage()
      const c = process.cpuUsage()
      const cpuMs = (c.user + c.system) / 1000
      process.send!({ kind: 'mem', rss: u.rss, heapUsed: u.heapUsed, external: u.external, connected, cpuMs })
    }
    // Polled every 100 ms while waiting for all devices up or down: no forced GC here (the full GCs of
    // 'mem' would run ten times a second and skew V8's heap-growing heuristics going into a phase).
    if (m === 'count') process.send!({ kind: 'count', connected })
    if (m === 'cpu') {
      const c = process.cpuUsage()
      const t = process.threadCpuUsage() // the event loop's thread only (not V8's GC helpers)
      process.send!({ kind: 'cpu', cpuMs: (c.user + c.system) / 1000, mainMs: (t.user + t.system) / 1000 })
    }
    if (m === 'stop') void running.close().then(() => process.exit(0))
    if (m.startsWith('profile:')) void profile(profileDir!, m).then(() => process.send!({ kind: 'profiled' }))
  })
  process.send!({ kind: 'ready', port: running.mqttPort })
}
