import fs from 'node:fs'
import path from 'node:path'
import cron from 'node-cron'
import { createAlerts, webhookNotifier } from './alerts/index.ts'
import { loadRuleFile } from './alerts/rule-file.ts'
import { createBroker } from './broker/index.ts'
import { createDashboard } from './dashboard/index.ts'
import { createIngest } from './ingest/index.ts'
import { knownDeviceTypes, shippedMappings } from './ingest/mappings/index.ts'
import { type Config, isLoopbackUrl } from './shared/config.ts'
import { EventBus } from './shared/events.ts'
import { listening } from './shared/listening.ts'
import type { Logger } from './shared/logger.ts'
import { createMetrics } from './shared/metrics.ts'
import { ensureDevelopmentPki, pkiPaths, serverNames } from './shared/pki.ts'
import { enrollDevice } from './shared/provisioning.ts'
import { generateSecret } from './shared/secrets.ts'
import { readTlsFiles } from './shared/tls-files.ts'
import { createOutboxForwarder } from './storage/outbox-forwarder.ts'
import type { ReadingStore } from './storage/ports.ts'
import { startRegistryPoll } from './storage/registry-poll.ts'
import { scheduleRetention } from './storage/retention.ts'
import { openEmbeddedStorage } from './storage/sqlite/index.ts'
import { createSqliteLatestIndex } from './storage/sqlite/latest.ts'
import { createSqliteLocator } from './storage/sqlite/readings.ts'
import { createSqliteSessionStore } from './storage/sqlite/sessions.ts'
import { createSqliteTokenStore } from './storage/sqlite/tokens.ts'

// The composition root: wiring only. Components get their dependencies and options here and talk to
// each other through the event bus and storage ports.

import { COMPONENTS, type Component, prepareDataDir } from './shared/components.ts'

export { COMPONENTS, type Component, prepareDataDir }

export interface Running {
  mqttPort?: number
  mqttPlainPort?: number
  httpUrl?: string
  /** The dashboard's routes (tests prove each one is covered by the access matrix). */
  httpRoutes?: () => { method: string; url: string }[]
  dataDir: string
  caCert: string
  events: EventBus
  /** Whether anyone can sign in yet (the ready line says how to create the first user). */
  hasUsers(): Promise<boolean>
  hasPatients(): Promise<boolean>
  close(): Promise<void>
}

const REGISTRY_POLL_MS = 250

function readSecretFile(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').trim()
  } catch {
    const secret = generateSecret(48)
    fs.writeFileSync(file, secret, { mode: 0o600, flag: 'wx' })
    return secret
  }
}

export async function startVitalwire(
  config: Config,
  log: Logger,
  only: ReadonlySet<Component> = new Set(COMPONENTS),
  /**
   * Not configuration. `durableAcceptance`: only bench/ingest.ts sets it, to measure what durable
   * acceptance costs. `fdatasync`: only tests set it, to make the disk fail, which they cannot provoke.
   */
  internal: {
    durableAcceptance?: boolean
    fdatasync?: (fd: number, cb: (err: NodeJS.ErrnoException | null) => void) => void
  } = {},
): Promise<Running> {
  prepareDataDir(config.dataDir)
  // The development PKI serves the server certificate unless one is configured, and signs device
  // certificates unless a device CA is (an own server certificate alone still needs the latter).
  if (!config.mqtt.tlsCert || !config.mqtt.deviceCa)
    await ensureDevelopmentPki(config.pkiDir, serverNames([config.mqtt.host, config.http.host]))
  const paths = pkiPaths(config.pkiDir)
  const tlsFiles = readTlsFiles(config, paths)
  const storage = openEmbeddedStorage({
    dataDir: config.dataDir,
    dbPath: config.dbPath,
    dataKey: config.dataKey,
    outbox: Boolean(config.influx),
    serve: { log, fdatasync: internal.fdatasync },
  })
  const events = new EventBus()
  const metrics = createMetrics()
  const closers: (() => Promise<void> | void)[] = []
  // What takes readings in (the broker): stopped before everything else, whenever it was started. In
  // reverse start order alone the alerts closed first, and readings the broker still acknowledged were
  // evaluated only at the next start.
  const inputClosers: (() => Promise<void> | void)[] = []
  let closed = false
  // Stop taking input first, then the rest in reverse order (finishing in-flight work), then storage.
  const closeAll = async () => {
    if (closed) return
    closed = true
    for (const c of [...inputClosers, ...closers.reverse()]) {
      try {
        await c()
      } catch (err) {
        log.error({ err }, 'error while stopping')
      }
    }
    await storage.close()
  }
  // A start that fails part way stops what it had started: never a broker acknowledging readings and
  // raising alerts with no dashboard to show them, in a process that a supervisor sees still running.
  try {
    // Checks set once when a component starts (broker); the others are asked on every /readyz (below).
    const health: Record<string, { ok: boolean; degraded?: boolean; detail?: string }> = {}

    // Registry changes made elsewhere (the CLI included), polled from the events table.
    const registryPoll = startRegistryPoll({
      registry: storage.registry,
      events,
      log,
      intervalMs: REGISTRY_POLL_MS,
    })
    closers.push(() => registryPoll.close())

    closers.push(scheduleRetention({ db: storage.db, log, retentionMs: config.storage.retentionMs }))
    // With InfluxDB, it is the system of record the dashboard reads; the local commit and outbox feed it.
    // Alerts keep reading the local store: it holds every reading the moment it is accepted, whether or
    // not InfluxDB is reachable, and consecutive-breach rules must see the reading just committed.
    let dashboardReadings: ReadingStore = storage.readings
    let forwarder: ReturnType<typeof createOutboxForwarder> | undefined
    if (config.influx) {
      // Loaded only when configured: the CLI and embedded deployments never pay for the client.
      const { createInfluxReadingStore } = await import('./storage/influx/index.ts')
      // Every reading forwarded is patient data, and the token or password goes with each request.
      // Plain http inside one trusted network is a deployment's choice, so it starts, but it is said.
      // Not for this machine, nor for a name without a dot (`influxdb`): a container on the same host's
      // private network, as in docker-compose.yml.
      const influxHost = new URL(config.influx.url).hostname
      const containerName = /^[a-z0-9-]+$/i.test(influxHost) && !/^\d+$/.test(influxHost)
      if (!config.influx.url.startsWith('https:') && !isLoopbackUrl(config.influx.url) && !containerName)
        log.warn(
          { influxHost: new URL(config.influx.url).host },
          'INFLUX_URL is plain http to another machine: readings (patient data) and the InfluxDB credentials cross the network unencrypted; use https://',
        )
      const influx = createInfluxReadingStore(config.influx, { locate: createSqliteLocator(storage.db) })
      const fwd = createOutboxForwarder({ db: storage.db, sink: influx, log, metrics })
      fwd.start()
      events.on('observations', () => fwd.wake())
      forwarder = fwd
      dashboardReadings = influx
      closers.push(async () => {
        await fwd.close()
        await influx.close()
      })
    }

    // Loaded and validated now, so a broken mapping file stops the start instead of failing messages.
    const mappings = shippedMappings()
    const ingest = createIngest(
      { journal: storage.journal, events, log, metrics, mappingFor: (type) => mappings.get(type)?.map },
      { ...config.ingest, durable: internal.durableAcceptance ?? true },
    )

    let broker: Awaited<ReturnType<typeof createBroker>> | undefined
    let mqttPort: number | undefined
    let mqttPlainPort: number | undefined
    if (only.has('broker')) {
      broker = await createBroker(
        {
          async lookupDevice(id) {
            const device = await storage.registry.getDevice(id)
            if (!device) return undefined
            const patient = await storage.registry.getPatient(device.patientId)
            return { device, monitoring: patient?.monitoring ?? false }
          },
          ingest,
          events,
          log,
          metrics,
          audit: (e) => storage.audit.append(e),
          recordStatus: (list) => storage.registry.updateDeviceStatuses(list),
        },
        {
          host: config.mqtt.host,
          port: config.mqtt.port,
          plainHost: config.mqtt.plainHost,
          plainPort: config.mqtt.plainPort,
          tls: tlsFiles,
          maxPacketBytes: config.mqtt.maxPacketBytes,
          ratePerS: config.mqtt.ratePerS,
          burst: config.mqtt.burst,
          maxConnections: config.mqtt.maxConnections,
          keepaliveMaxS: config.mqtt.keepaliveMaxS,
          authFailuresPerMin: config.mqtt.authFailuresPerMin,
        },
      )
      const b = broker
      events.on('registry-changed', async (e) => {
        try {
          if (e.kind === 'device-revoked') b.disconnect(e.subject, 'revoked')
          if (e.kind === 'device-added') b.forget(e.subject)
          if (e.kind === 'patient-changed') {
            const p = await storage.registry.getPatient(e.subject)
            if (p && !p.monitoring)
              for (const d of await storage.registry.listDevices(p.id))
                b.disconnect(d.id, 'monitoring disabled')
          }
        } catch (err) {
          log.error({ err }, 'registry change handling failed')
        }
      })
      inputClosers.push(() => b.close())
      const ports = await listening(
        'the MQTT broker',
        { host: 'VITALWIRE_MQTT_HOST', port: 'VITALWIRE_MQTT_PORT (and VITALWIRE_MQTT_PLAIN_PORT)' },
        config.mqtt.host,
        config.mqtt.port,
        () => b.start(),
      )
      mqttPort = ports.port
      mqttPlainPort = ports.plainPort
      health.broker = { ok: true }
    }

    const alerts = createAlerts(
      {
        store: storage.alerts,
        readings: storage.readings,
        patient: (id) => storage.registry.getPatient(id),
        listPatients: () => storage.registry.listPatients(),
        listDevices: () => storage.registry.listDevices(),
        events,
        log,
        metrics,
        notifier: config.alerts.escalationWebhook
          ? webhookNotifier(config.alerts.escalationWebhook)
          : undefined,
      },
      {
        escalateAfterMs: config.alerts.escalateAfterMs,
        rules: config.alerts.rulesFile ? loadRuleFile(config.alerts.rulesFile) : undefined,
        // Without ingest here, readings come from another process through the store only.
        followStoreMs: only.has('ingest') ? undefined : 500,
      },
    )
    if (only.has('alerts')) {
      // Readings committed but not evaluated when the process last stopped are evaluated first.
      await alerts.start()
      // Every minute: auto-resolve after the hysteresis time, no-data and device-offline, escalation.
      let ticking = false
      const task = cron.schedule('* * * * *', () => {
        if (ticking) return
        ticking = true
        // tick() logs and counts its own failures (alerts.check).
        alerts.tick().finally(() => {
          ticking = false
        })
      })
      closers.push(async () => {
        await task.stop()
        await alerts.close()
      })
    }

    let httpUrl: string | undefined
    let httpRoutes: Running['httpRoutes']
    if (only.has('dashboard')) {
      const tokens = createSqliteTokenStore(storage.db)
      const sessionStore = createSqliteSessionStore(storage.db, config.http.sessionIdleMs)
      const readiness = () => {
        health.storage = storage.check()
        health.registry = registryPoll.check()
        if (only.has('alerts')) health.alerts = alerts.check()
        if (forwarder) health.influx = forwarder.check()
        const ready = Object.values(health).every((c) => c.ok)
        const degraded = Object.values(health).some((c) => c.degraded)
        return { live: true, ready, degraded, checks: health }
      }
      // /metrics shows each check too (vitalwire_check_up, vitalwire_check_degraded).
      metrics.readChecksFrom(() => readiness().checks)
      const dashboard = createDashboard(
        {
          registry: storage.registry,
          readings: dashboardReadings,
          // The worklist's latest values come from the local store in every deployment: it has each reading
          // the moment it is accepted, and it stays up when InfluxDB is down. (Before, with InfluxDB the
          // worklist read InfluxDB, and an InfluxDB outage answered 503 to the worklist, which took the
          // whole dashboard, alert feed included, down with it.) History and FHIR read InfluxDB.
          latestIndex: createSqliteLatestIndex(storage.db),
          // Likewise a patient's latest values and RPM days, when local retention covers the 30-day period.
          recentReadings: config.storage.retentionMs >= 30 * 86_400_000 ? storage.readings : undefined,
          alertStore: storage.alerts,
          alerts,
          audit: storage.audit,
          tokens,
          sessionStore,
          sessionSecret: readSecretFile(path.join(config.dataDir, 'session.key')),
          sessionIdleMs: config.http.sessionIdleMs,
          events,
          log,
          metrics,
          health: readiness,
          enroll: ({ certificate, ...o }) =>
            enrollDevice(storage.registry, {
              ...o,
              pkiDir: config.pkiDir,
              knownTypes: knownDeviceTypes(),
              externalDeviceCa: config.mqtt.deviceCa,
              ...(certificate !== undefined
                ? {
                    certificate: {
                      pem: certificate,
                      trustedCa: tlsFiles.ca,
                      serverCa: config.mqtt.tlsCert ?? paths.caCert,
                    },
                  }
                : {}),
            }),
          revokeDevice: async (id) => {
            await storage.registry.revokeDevice(id)
            broker?.disconnect(id, 'revoked')
          },
          webRoot: path.join(import.meta.dirname, 'dashboard', 'web', 'dist'),
          secure: config.http.tls,
        },
        {
          host: config.http.host,
          port: config.http.port,
          https: config.http.tls
            ? {
                cert: fs.readFileSync(config.mqtt.tlsCert ?? paths.serverCert, 'utf8'),
                key: fs.readFileSync(config.mqtt.tlsKey ?? paths.serverKey, 'utf8'),
              }
            : undefined,
        },
      )
      let sweep: NodeJS.Timeout | undefined
      closers.push(async () => {
        clearInterval(sweep)
        await dashboard.close()
      })
      const started = await listening(
        'the dashboard and API',
        { host: 'VITALWIRE_HTTP_HOST', port: 'VITALWIRE_HTTP_PORT' },
        config.http.host,
        config.http.port,
        () => dashboard.start(),
      )
      httpUrl = started.url
      httpRoutes = () => dashboard.routes()
      sweep = setInterval(() => sessionStore.sweep(), 60_000)
      sweep.unref()
    }

    return {
      mqttPort,
      mqttPlainPort,
      httpUrl,
      httpRoutes,
      dataDir: config.dataDir,
      // What devices trust to verify this server: the development CA, or with an own certificate the
      // certificate file itself (its issuer is the operator's CA, which the start names).
      caCert: config.mqtt.tlsCert ?? paths.caCert,
      events,
      hasUsers: async () => (await storage.registry.listUsers()).length > 0,
      hasPatients: async () => (await storage.registry.listPatients()).length > 0,
      close: closeAll,
    }
  } catch (e) {
    await closeAll()
    throw e
  }
}
