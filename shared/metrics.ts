import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client'

// Prometheus metrics (prom-client), one registry per running instance so tests stay isolated.

type Check = { ok: boolean; degraded?: boolean }

export function createMetrics() {
  const registry = new Registry()
  collectDefaultMetrics({ register: registry })
  // The /readyz checks, read at each scrape: a failed disk sync, registry changes not applied, the
  // database log growing, InfluxDB behind... are what Prometheus alerting must see, not only /readyz.
  let checks: () => Record<string, Check> = () => ({})
  const eachCheck = (gauge: Gauge<'check'>, value: (c: Check) => number) => {
    gauge.reset()
    for (const [name, c] of Object.entries(checks())) gauge.set({ check: name }, value(c))
  }
  return {
    registry,
    /** Where the readiness checks come from (main.ts), for the two gauges below. */
    readChecksFrom(fn: () => Record<string, Check>) {
      checks = fn
    },
    checkUp: new Gauge({
      name: 'vitalwire_check_up',
      help: 'Each /readyz check: 1 when it is up, 0 when it is down (readings refused after a failed disk sync, ...).',
      labelNames: ['check'] as const,
      registers: [registry],
      collect() {
        eachCheck(this, (c) => (c.ok ? 1 : 0))
      },
    }),
    checkDegraded: new Gauge({
      name: 'vitalwire_check_degraded',
      help: 'Each /readyz check: 1 when it is degraded (registry changes not applied, the database log growing, InfluxDB behind, alert checks failing, ...).',
      labelNames: ['check'] as const,
      registers: [registry],
      collect() {
        eachCheck(this, (c) => (c.degraded ? 1 : 0))
      },
    }),
    readings: new Counter({
      name: 'vitalwire_readings_total',
      help: 'Readings by outcome: accepted, duplicate, rejected (with reason code).',
      labelNames: ['outcome', 'code'] as const,
      registers: [registry],
    }),
    commitSeconds: new Histogram({
      name: 'vitalwire_ingest_commit_seconds',
      help: 'Time from receiving a publish to its durable local commit.',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1],
      registers: [registry],
    }),
    mqttConnections: new Gauge({
      name: 'vitalwire_mqtt_connections',
      help: 'Connected devices.',
      registers: [registry],
    }),
    mqttRefused: new Counter({
      name: 'vitalwire_mqtt_refused_total',
      help: 'Refused connections, publishes and subscriptions by reason.',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    alerts: new Counter({
      name: 'vitalwire_alerts_total',
      help: 'Alerts opened by rule and severity.',
      labelNames: ['rule', 'severity'] as const,
      registers: [registry],
    }),
    alertFailures: new Counter({
      name: 'vitalwire_alert_failures_total',
      help: 'Alert work that failed (an evaluation of a reading, or the scheduled checks): alarms that may not have fired.',
      labelNames: ['stage'] as const,
      registers: [registry],
    }),
    outboxBacklog: new Gauge({
      name: 'vitalwire_outbox_backlog',
      help: 'Readings waiting to be forwarded to InfluxDB.',
      registers: [registry],
    }),
    outboxAgeSeconds: new Gauge({
      name: 'vitalwire_outbox_oldest_age_seconds',
      help: 'Age of the oldest unforwarded reading.',
      registers: [registry],
    }),
    forwarded: new Counter({
      name: 'vitalwire_forwarded_total',
      help: 'Readings forwarded to InfluxDB.',
      registers: [registry],
    }),
    wsClients: new Gauge({
      name: 'vitalwire_ws_clients',
      help: 'Connected dashboard WebSockets.',
      registers: [registry],
    }),
  }
}

export type Metrics = ReturnType<typeof createMetrics>
