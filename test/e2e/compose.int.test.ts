import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { findBinary, requireBinary } from '../helpers/requirements.ts'

// docker-compose.yml is validated by Compose itself (`docker compose config`, or Debian's v1
// `docker-compose config`), which needs no Docker daemon: the file parses against the Compose schema,
// interpolates, and refuses to run without the credentials it has no defaults for.

const ROOT = path.resolve(import.meta.dirname, '..', '..')
const SECRETS = {
  INFLUX_ADMIN_PASSWORD: 'admin-secret',
  INFLUX_PASSWORD: 'writer-secret',
  VITALWIRE_DATA_KEY: Buffer.alloc(32, 7).toString('base64'),
}

/** The Compose command here: the v2 plugin when Docker has it, else Debian's docker-compose. */
function compose(): string[] | undefined {
  if (findBinary('docker') && spawnSync('docker', ['compose', 'version']).status === 0)
    return ['docker', 'compose']
  if (requireBinary('docker-compose')) return ['docker-compose']
  return undefined
}

const cmd = compose()

describe.skipIf(!cmd)('docker-compose.yml', () => {
  const run = (env: Record<string, string>) => {
    const [bin, ...pre] = cmd as string[]
    // Only PATH and HOME from this environment, so a developer's own INFLUX_* cannot leak in.
    return spawnSync(bin, [...pre, 'config'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    })
  }

  it('is valid Compose: InfluxDB with its database, credentials, volume and health check; Vitalwire waits for it', () => {
    const r = run(SECRETS)
    expect(r.status, r.stderr).toBe(0)
    const out = r.stdout
    expect(out).toMatch(/image: influxdb:1\.8/)
    expect(out).toMatch(/INFLUXDB_DB: vitalwire/)
    expect(out).toMatch(/INFLUXDB_HTTP_AUTH_ENABLED: "true"/)
    expect(out).toMatch(/INFLUXDB_USER_PASSWORD: writer-secret/)
    expect(out).toMatch(/influxdb-data:\/var\/lib\/influxdb/)
    expect(out).toMatch(/http:\/\/127\.0\.0\.1:8086\/ping/)
    expect(out).toMatch(/condition: service_healthy/)
    expect(out).toMatch(/INFLUX_URL: http:\/\/influxdb:8086/)
    expect(out).toMatch(/INFLUX_PASSWORD: writer-secret/)
    expect(out).toMatch(/vitalwire-data:\/data/)
  })

  it('refuses to start without each credential it has no default for, naming it', () => {
    for (const missing of Object.keys(SECRETS)) {
      const env = { ...SECRETS } as Record<string, string>
      delete env[missing]
      const r = run(env)
      expect(r.status, missing).not.toBe(0)
      expect(r.stderr, missing).toContain(`set ${missing}`)
    }
  })
})
