import { execFileSync } from 'node:child_process'
import fs from 'node:fs'

// Real parts, not stand-ins: a test that needs InfluxDB, mosquitto-clients, Chromium or Compose and cannot find
// it fails in CI (CI=true) and is skipped elsewhere with a loud message saying how to install it.

const INSTALL: Record<string, string> = {
  influxd: 'sudo apt-get update && sudo apt-get install -y influxdb',
  mosquitto_pub: 'sudo apt-get update && sudo apt-get install -y mosquitto-clients',
  mosquitto_sub: 'sudo apt-get update && sudo apt-get install -y mosquitto-clients',
  mosquitto: 'sudo apt-get update && sudo apt-get install -y mosquitto',
  chromium: 'sudo apt-get update && sudo apt-get install -y chromium',
  'docker-compose': 'sudo apt-get update && sudo apt-get install -y docker-compose',
}

export function findBinary(name: string): string | undefined {
  if (name === 'chromium') return fs.existsSync('/usr/bin/chromium') ? '/usr/bin/chromium' : undefined
  try {
    return execFileSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' }).trim() || undefined
  } catch {
    return undefined
  }
}

/** true when the binary is there; false (after a loud warning) when tests should skip; throws in CI. */
export function requireBinary(name: string): boolean {
  if (findBinary(name)) return true
  const msg = `${name} not found: these tests need it. Install with: ${INSTALL[name] ?? `install ${name}`}`
  if (process.env.CI === 'true') throw new Error(`${msg} (CI=true: missing prerequisites fail the build)`)
  process.stderr.write(`\n*** SKIPPING: ${msg} ***\n\n`)
  return false
}
