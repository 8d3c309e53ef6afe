import { spawn } from 'node:child_process'
import { pbkdf2Sync, randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import tls from 'node:tls'
import { KEY_SHARE, type Load } from './load.ts'
import type { Provisioned } from './provision.ts'
import { kib, untilTrue } from './util.ts'

// Mosquitto on the same machine, certificates and load, for comparison.

function rssOf(pid: number): number {
  const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/)
  return Number(m![1]) * 1024
}

async function startMosquitto(dir: string, name: string, lines: string[]) {
  const port = await new Promise<number>((r) => {
    const s = tls.createServer().listen(0, '127.0.0.1', () => {
      const a = s.address() as { port: number }
      s.close(() => r(a.port))
    })
  })
  const conf = path.join(dir, `${name}.conf`)
  // Errors and warnings only, and always read: Mosquitto logs two notice lines per connection, and an
  // unread stderr pipe filled up after ~520 connections and blocked it (the "stall" of earlier runs).
  const log = ['log_dest stderr', 'log_type error', 'log_type warning']
  fs.writeFileSync(
    conf,
    [`listener ${port} 127.0.0.1`, 'max_connections -1', ...log, ...lines, ''].join('\n'),
  )
  const proc = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] })
  let tail = ''
  proc.stderr?.on('data', (d) => {
    tail = (tail + d).slice(-2000)
  })
  proc.once('exit', (code) => {
    if (code) process.stderr.write(`mosquitto exited with ${code}: ${tail}\n`)
  })
  await untilTrue(
    () =>
      new Promise<boolean>((r) =>
        tls
          .connect({ port, host: '127.0.0.1', rejectUnauthorized: false })
          .once('secureConnect', function (this: tls.TLSSocket) {
            this.destroy()
            r(true)
          })
          .once('error', () => r(false)),
      ),
    'mosquitto listening',
  )
  return { proc, port }
}

/** SIGTERM, then SIGKILL: Mosquitto 2.0.11 here sometimes ignored SIGTERM and kept the bench waiting. */
async function stopMosquitto(proc: ReturnType<typeof spawn>) {
  if (proc.exitCode !== null || proc.signalCode !== null) return
  const exited = new Promise((r) => proc.once('exit', r))
  proc.kill()
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000)
  await exited
  clearTimeout(timer)
}

/** Mosquitto's files in dir/mosquitto: the TLS key and certificates, and a password file. */
function writeFiles(dir: string, p: Provisioned) {
  const mdir = path.join(dir, 'mosquitto')
  fs.mkdirSync(mdir, { mode: 0o755 })
  for (const f of ['caCert', 'serverCert', 'serverKey'] as const)
    fs.copyFileSync(p.pki[f], path.join(mdir, f))
  const lines = p.secrets.map((d) => {
    const salt = randomBytes(12) // mosquitto_passwd's own format: $7$ = PBKDF2-SHA512, 101 iterations
    const hash = pbkdf2Sync(d.secret!, salt, 101, 64, 'sha512')
    return `${d.id}:$7$101$${salt.toString('base64')}$${hash.toString('base64')}`
  })
  fs.writeFileSync(path.join(mdir, 'passwd'), `${lines.join('\n')}\n`)
  for (const f of fs.readdirSync(mdir)) fs.chmodSync(path.join(mdir, f), 0o644) // mosquitto drops root
  fs.chmodSync(dir, 0o755)
  return mdir
}

/** `devices`: how many of each kind; by default as many as Vitalwire's. */
export async function benchMosquitto(
  dir: string,
  all: Provisioned,
  concurrency: number,
  load: Load,
  devices?: string,
) {
  const m = Number(devices ?? Math.max(all.secrets.length, all.certs.length))
  const p = { ...all, secrets: all.secrets.slice(0, m), certs: all.certs.slice(0, m) }
  const mdir = writeFiles(dir, p)
  const tlsLines = [`cafile ${mdir}/caCert`, `certfile ${mdir}/serverCert`, `keyfile ${mdir}/serverKey`]
  const secretM = await startMosquitto(mdir, 'secret', [
    ...tlsLines,
    `password_file ${mdir}/passwd`,
    'allow_anonymous false',
  ])
  // Mosquitto has no JIT to warm: one pass from a fresh process (a second pass with the same ids
  // stalled on takeovers of the abruptly closed first-pass connections in 2.0.11).
  const before = rssOf(secretM.proc.pid!)
  const up = await load.connectAll(secretM.port, p.ca, p.secrets, concurrency, {
    groups: KEY_SHARE.mosquitto,
  })
  const after = rssOf(secretM.proc.pid!)
  await load.closeAll()
  await stopMosquitto(secretM.proc)
  const certM = await startMosquitto(mdir, 'cert', [
    ...tlsLines,
    'require_certificate true',
    'use_identity_as_username true',
    'allow_anonymous false',
  ])
  const cert = await load.connectAll(certM.port, p.ca, p.certs, concurrency, { groups: KEY_SHARE.mosquitto })
  await load.closeAll()
  await stopMosquitto(certM.proc)
  return {
    tlsProtocol: up.protocol,
    keyExchange: up.group,
    connectionsPerSecond: { secret: up.perSecond, cert: cert.perSecond },
    stalledConnectsRetried: { secret: up.stalled, cert: cert.stalled },
    memory: { idleDevices: p.secrets.length, rssPerDeviceKiB: kib((after - before) / p.secrets.length) },
  }
}
