import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Writable } from 'node:stream'
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt'
import { COMPONENTS, type Component, type Running, startVitalwire } from '../../main.ts'
import { loadConfig } from '../../shared/config.ts'
import { createLogger } from '../../shared/logger.ts'
import { addUser, enrollDevice } from '../../shared/provisioning.ts'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'

// Start a real Vitalwire on free loopback ports with a temporary data dir, plus helpers to enroll
// patients, devices and users and to connect real clients. Each test gets its own instance.

export interface LogLine {
  level: number
  msg: string
  [k: string]: unknown
}

export interface Harness {
  running: Running
  dataDir: string
  env: Record<string, string>
  mqttUrl: string
  httpUrl: string
  ca: string
  logs: LogLine[]
  enrollPatient(id: string, opts?: { name?: string; flags?: Record<string, boolean> }): Promise<void>
  enrollDevice(
    id: string,
    patientId: string,
    auth?: 'secret' | 'cert',
    type?: string,
  ): Promise<{ secret?: string; cert?: string; key?: string }>
  /**
   * Add a user and return the password. Users made by `users add` must change their one-time password
   * before anything else; test users are ready to use unless `mustChangePassword` is asked for.
   */
  addUser(
    email: string,
    role: 'admin' | 'coordinator' | 'clinician',
    patients?: string[],
    opts?: { mustChangePassword?: boolean },
  ): Promise<string>
  connectDevice(
    id: string,
    creds: { secret?: string; cert?: string; key?: string },
    extra?: IClientOptions,
  ): Promise<MqttClient>
  login(email: string, password: string): Promise<string>
  close(): Promise<void>
}

export function tempDir(prefix = 'vitalwire-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

export async function startHarness(
  opts: {
    env?: Record<string, string>
    only?: Component[]
    dataDir?: string
    internal?: Parameters<typeof startVitalwire>[3]
  } = {},
): Promise<Harness> {
  const dataDir = opts.dataDir ?? tempDir()
  const env = {
    VITALWIRE_DATA_DIR: dataDir,
    VITALWIRE_MQTT_PORT: '0',
    VITALWIRE_HTTP_PORT: '0',
    VITALWIRE_LOG_LEVEL: 'debug',
    ...opts.env,
  }
  const config = loadConfig(env)
  const logs: LogLine[] = []
  const sink = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) logs.push(JSON.parse(line))
      cb()
    },
  })
  const log = createLogger({ level: env.VITALWIRE_LOG_LEVEL, destination: sink })
  const running = await startVitalwire(config, log, new Set(opts.only ?? COMPONENTS), opts.internal)
  // Provisioning through a second connection to the same file, exactly as the CLI does.
  const withStorage = async <T>(fn: (s: ReturnType<typeof openEmbeddedStorage>) => Promise<T>) => {
    const s = openEmbeddedStorage({
      dataDir,
      dbPath: config.dbPath,
      dataKey: config.dataKey,
      outbox: Boolean(config.influx),
    })
    try {
      return await fn(s)
    } finally {
      s.close()
    }
  }
  const clients: MqttClient[] = []
  const h: Harness = {
    running,
    dataDir,
    env,
    mqttUrl: `mqtts://localhost:${running.mqttPort}`,
    httpUrl: running.httpUrl ?? '',
    ca: fs.readFileSync(running.caCert, 'utf8'),
    logs,
    async enrollPatient(id, o = {}) {
      await withStorage((s) => s.registry.addPatient({ id, name: o.name ?? `Patient ${id}`, flags: o.flags }))
    },
    async enrollDevice(id, patientId, auth = 'secret', type = 'generic') {
      const d = await withStorage((s) =>
        enrollDevice(s.registry, { id, patientId, type, auth, pkiDir: config.pkiDir }),
      )
      if (d.auth === 'secret') return { secret: d.secret }
      return { cert: fs.readFileSync(d.cert!, 'utf8'), key: fs.readFileSync(d.key!, 'utf8') }
    },
    async addUser(email, role, patients = [], o = {}) {
      return withStorage(async (s) => {
        const oneTimePassword = o.mustChangePassword === true
        return (await addUser(s.registry, { email, role, patients, oneTimePassword })).password
      })
    },
    async connectDevice(id, creds, extra = {}) {
      const client = await mqtt.connectAsync(h.mqttUrl, {
        clientId: id,
        ca: h.ca,
        ...(creds.secret ? { username: id, password: creds.secret } : { cert: creds.cert, key: creds.key }),
        protocolVersion: 4,
        reconnectPeriod: 0,
        connectTimeout: 5000,
        ...extra,
      })
      clients.push(client)
      return client
    },
    async login(email, password) {
      const res = await fetch(`${h.httpUrl}/api/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email, password }),
      })
      if (res.status !== 201) throw new Error(`login failed: ${res.status} ${await res.text()}`)
      return res.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ')
    },
    async close() {
      await Promise.all(clients.map((c) => c.endAsync(true).catch(() => {})))
      await running.close()
      fs.rmSync(dataDir, { recursive: true, force: true })
    },
  }
  return h
}

/** Resolve with the first message for which `match` returns true; reject after `timeoutMs`. */
export function nextMessage<T>(
  subscribe: (fn: (m: T) => void) => () => void,
  match: (m: T) => boolean,
  timeoutMs = 5000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off()
      reject(new Error(`no matching message within ${timeoutMs} ms`))
    }, timeoutMs)
    const off = subscribe((m) => {
      if (match(m)) {
        clearTimeout(timer)
        off()
        resolve(m)
      }
    })
  })
}
