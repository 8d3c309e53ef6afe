import { type ChildProcess, spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import type { PkiPaths } from '../../shared/pki.ts'

// Baseline broker: Debian's Mosquitto, started with a generated config on a free loopback port, TLS
// with the same development CA and server certificate as Vitalwire. Its defaults are kept on purpose
// (max_queued_messages 1000, max_inflight_messages 20): that is what a team gets out of the box.

export async function freePort(): Promise<number> {
  const server = net.createServer()
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const { port } = server.address() as net.AddressInfo
  await new Promise((r) => server.close(r))
  return port
}

export interface RunningMosquitto {
  url: string
  version: string
  process: ChildProcess
  stop(): Promise<void>
}

export async function startMosquitto(pki: PkiPaths): Promise<RunningMosquitto> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-bench-mosquitto-'))
  const port = await freePort()
  const conf = path.join(dir, 'mosquitto.conf')
  fs.writeFileSync(
    conf,
    [
      `listener ${port} 127.0.0.1`,
      `cafile ${pki.caCert}`,
      `certfile ${pki.serverCert}`,
      `keyfile ${pki.serverKey}`,
      // Anonymous: the baseline measures relaying, not authentication (Vitalwire authenticates every device).
      'allow_anonymous true',
      'persistence false',
      // Mosquitto drops root privileges to the `mosquitto` user unless told otherwise; the key is owner-only.
      `user ${os.userInfo().username}`,
      'log_dest stderr',
      'log_type error',
      '',
    ].join('\n'),
  )
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr?.on('data', (d) => (stderr += d))
  // Ready when the TLS port accepts connections.
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited: ${stderr}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy()
        resolve(true)
      })
      s.on('error', () => resolve(false))
    })
    if (ok) break
    if (Date.now() > deadline) throw new Error(`mosquitto did not listen on ${port}: ${stderr}`)
    await new Promise((r) => setTimeout(r, 100))
  }
  const version = await new Promise<string>((resolve) => {
    const v = spawn('mosquitto', ['-h'])
    let out = ''
    v.stdout.on('data', (d) => (out += d))
    v.on('close', () => resolve(/mosquitto version (\S+)/.exec(out)?.[1] ?? 'unknown'))
  })
  return {
    url: `mqtts://localhost:${port}`,
    version,
    process: child,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await exited
      }
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}
