import type { MqttClient } from 'mqtt'
import { decode } from '../../ingest/decode.ts'
import { toObservations } from '../../ingest/to-observation.ts'
import { loadConfig } from '../../shared/config.ts'
import { enrollDevice } from '../../shared/provisioning.ts'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'
import type { Harness } from '../../test/helpers/harness.ts'
import { PATIENTS, STREAM_DEVICES } from './config.ts'

// What the web bench does to the server from Node: the patients it seeds, the API it times, the devices
// it connects and the alerts it resolves between runs.

/** The stream's device secrets, by patient id. */
export type Secrets = Map<string, string>

// Seed 1,000 patients, a device each, and three recent readings each (through the ingest's own decode and
// FHIR mapping, written to the same SQLite file the server reads).
export async function seedPatients(h: Harness): Promise<Secrets> {
  const config = loadConfig(h.env)
  const secrets: Secrets = new Map()
  const s = openEmbeddedStorage({
    dataDir: h.dataDir,
    dbPath: config.dbPath,
    dataKey: config.dataKey,
    outbox: false,
  })
  const now = Date.now()
  for (let i = 0; i < PATIENTS; i++) {
    const pid = `p${String(i).padStart(4, '0')}`
    await s.registry.addPatient({ id: pid, name: `Patient ${i}` })
    const d = await enrollDevice(s.registry, {
      id: `d-${pid}`,
      patientId: pid,
      type: 'generic',
      auth: 'secret',
      pkiDir: config.pkiDir,
    })
    if (i < STREAM_DEVICES) secrets.set(pid, (d as { secret: string }).secret)
    await s.readings.write(recentReadings(i, pid, now))
  }
  s.close()
  return secrets
}

function recentReadings(i: number, pid: string, now: number) {
  const ts = (minutes: number) => new Date(now - minutes * 60_000).toISOString()
  const payload = JSON.stringify({
    readings: [
      { id: 'hr', type: 'heart-rate', ts: ts(i % 600), value: 60 + (i % 40) },
      { id: 'sp', type: 'spo2', ts: ts(i % 300), value: 92 + (i % 8) },
      {
        id: 'bp',
        type: 'blood-pressure',
        ts: ts(i % 900),
        systolic: 110 + (i % 50),
        diastolic: 70 + (i % 20),
      },
    ],
  })
  return decode(new TextEncoder().encode(payload), {
    nowMs: now,
    maxFutureMs: 300_000,
    maxAgeMs: 30 * 86_400_000,
  }).flatMap((it) =>
    it.ok ? toObservations(it.reading, { deviceId: `d-${pid}`, patientId: pid, receivedMs: now }) : [],
  )
}

// The server's share: GET /api/patients for 1,000 patients, measured from Node (median of 3).
export async function timeApiPatients(h: Harness, cookie: string): Promise<number[]> {
  const apiTimes: number[] = []
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now()
    await (await fetch(`${h.httpUrl}/api/patients`, { headers: { cookie } })).json()
    apiTimes.push(Math.round(performance.now() - t0))
  }
  return apiTimes
}

// Ten TLS handshakes at a time, with a generous timeout: the machine may be shared and busy.
export async function connectDevices(h: Harness, secrets: Secrets): Promise<MqttClient[]> {
  const devices: MqttClient[] = []
  const queue = [...secrets]
  while (queue.length) {
    const batch = queue.splice(0, 10)
    devices.push(
      ...(await Promise.all(
        batch.map(([pid, secret]) => h.connectDevice(`d-${pid}`, { secret }, { connectTimeout: 60_000 })),
      )),
    )
  }
  return devices
}

/** Resolves every open and acknowledged alert through the API. */
export async function resolveAll(h: Harness, cookie: string) {
  const headers = { cookie, 'content-type': 'application/json' }
  for (const status of ['open', 'acknowledged']) {
    const res = await fetch(`${h.httpUrl}/api/alerts?status=${status}&limit=1000`, { headers })
    for (const a of ((await res.json()) as { alerts: { id: string }[] }).alerts)
      await fetch(`${h.httpUrl}/api/alerts/${encodeURIComponent(a.id)}/resolve`, {
        method: 'POST',
        headers,
        body: '{}',
      })
  }
}
