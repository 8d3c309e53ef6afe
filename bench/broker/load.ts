import { type ChildProcess, fork } from 'node:child_process'
import type { Job, Reply } from './load-generator.ts'
import type { Creds } from './provision.ts'

// The parent's side of the load generator processes: hands each its share of a phase's devices and
// adds up their replies.

/**
 * The load generator's key share. Node 24 (OpenSSL 3.5) offers two by default, X25519MLKEM768 and
 * X25519, and computes both; a device sends one, for the group its server uses. Vitalwire's broker (Node)
 * picks the post-quantum hybrid X25519MLKEM768; Mosquitto 2.0.11 here (OpenSSL 3.0) has no ML-KEM and
 * picks X25519. The negotiated group is in the results.
 */
export const KEY_SHARE = { vitalwire: 'X25519MLKEM768:X25519:P-256', mosquitto: 'X25519:P-256' }

/** Sends m to p and waits for its reply. */
function ask(p: ChildProcess, m: object) {
  return new Promise<Reply>((r) => {
    p.once('message', (x: Reply) => r(x))
    p.send(m)
  })
}

/** One phase's figures from every process's reply. */
function summarise(replies: Reply[], devices: number, seconds: number) {
  const sum = (f: (r: Reply) => number) => replies.reduce((a, r) => a + f(r), 0)
  return {
    perSecond: Math.round(devices / seconds),
    protocol: replies[0].protocol,
    group: replies[0].group,
    stalled: sum((r) => r.stalled),
    resumed: sum((r) => r.resumed),
    clientCpuMs: Math.round((sum((r) => r.cpuMs) / devices) * 100) / 100,
  }
}

/**
 * The load generator processes, forked from `entry` (bench/broker.ts) with `--load`; device i always
 * goes to process i % n, so its TLS session stays there.
 */
export function startLoad(entry: string, n: number) {
  const procs = Array.from({ length: n }, () =>
    fork(entry, ['--load'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
  )
  const ready = Promise.all(procs.map((p) => new Promise((r) => p.once('message', r))))
  const all = (m: object) => Promise.all(procs.map((p) => ask(p, m)))
  return {
    /** Connect every device with `concurrency` handshakes in flight in all; connections per second. */
    async connectAll(
      port: number,
      ca: string,
      devices: Creds[],
      concurrency: number,
      { resume = false, keepTickets = false, groups = KEY_SHARE.vitalwire } = {},
    ) {
      await ready
      const kind = `${devices[0].secret ? 'secret' : 'cert'}${resume ? ', resumed' : ''}`
      console.error(`connecting ${devices.length} devices (${kind}) to :${port} from ${n} processes`)
      const share = (i: number): Job => ({
        port,
        ca,
        devices: devices.filter((_, j) => j % n === i),
        concurrency: Math.ceil(concurrency / n),
        resume,
        keepTickets,
        groups,
      })
      await Promise.all(procs.map((p, i) => ask(p, { kind: 'prepare', job: share(i) })))
      const t0 = performance.now()
      const replies = await all({ kind: 'go' })
      const seconds = (performance.now() - t0) / 1000
      return summarise(replies, devices.length, seconds)
    },
    async closeAll() {
      await all({ kind: 'close' })
    },
    async stop() {
      for (const p of procs) p.send({ kind: 'exit' })
      await Promise.all(
        procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(0) : p.once('exit', r)))),
      )
    },
  }
}
export type Load = ReturnType<typeof startLoad>
