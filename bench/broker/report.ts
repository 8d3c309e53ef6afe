import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

// The machine the figures were measured on, and the results file.

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).trim()

export const uptime = () => sh('uptime', [])

export function describeMachine() {
  return {
    cpu: os.cpus()[0]?.model,
    cores: os.availableParallelism(),
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    openssl: process.versions.openssl,
    mosquitto: sh('sh', ['-c', 'mosquitto -h 2>&1 | head -1']),
    uptimeBefore: uptime(),
  }
}

export function writeResult(out: string, result: object) {
  fs.mkdirSync(path.dirname(out), { recursive: true })
  fs.writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`)
  console.log(`wrote ${out}`)
}
