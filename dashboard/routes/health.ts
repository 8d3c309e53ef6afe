import type { FastifyInstance } from 'fastify'
import type { DashboardDeps } from '../deps.ts'

/** One component's check (docs/api.md "Readiness"); a check may carry more fields, kept as they are. */
const check = {
  type: 'object',
  required: ['ok'],
  properties: {
    ok: { type: 'boolean', description: 'false: the component is down and the server is not ready' },
    degraded: { type: 'boolean', description: 'working, with a problem an operator should see' },
    detail: { type: 'string', description: 'what is wrong and since when; never patient data' },
  },
  additionalProperties: true,
} as const

const readiness = {
  type: 'object',
  required: ['status', 'checks'],
  properties: {
    status: { type: 'string', enum: ['ready', 'degraded', 'down'] },
    checks: {
      type: 'object',
      description: 'storage, alerts, influx, registry, broker: those this server runs',
      additionalProperties: check,
    },
  },
} as const

export function healthRoutes(app: FastifyInstance, deps: DashboardDeps) {
  // Liveness: the process answers. Readiness: every component is up; degraded still counts as ready.
  app.get(
    '/healthz',
    {
      schema: {
        tags: ['health'],
        summary: 'liveness: the process answers',
        security: [],
        response: {
          200: {
            type: 'object',
            required: ['status'],
            properties: { status: { type: 'string', enum: ['ok'] } },
          },
        },
      },
    },
    async () => ({ status: 'ok' }),
  )
  app.get(
    '/readyz',
    {
      schema: {
        tags: ['health'],
        summary: 'readiness: every component is up (degraded still counts as ready)',
        security: [],
        response: {
          200: { description: 'ready, or degraded (a check has `degraded: true`)', ...readiness },
          503: { description: 'down: a check has `ok: false` (its `detail` says why)', ...readiness },
        },
      },
    },
    async (_req, reply) => {
      const h = deps.health()
      reply.code(h.ready ? 200 : 503)
      return { status: !h.ready ? 'down' : h.degraded ? 'degraded' : 'ready', checks: h.checks }
    },
  )
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['health'],
        summary: 'Prometheus metrics (text exposition format)',
        security: [],
      },
    },
    async (_req, reply) => {
      reply.header('content-type', deps.metrics.registry.contentType)
      return deps.metrics.registry.metrics()
    },
  )
}
