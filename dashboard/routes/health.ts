import type { FastifyInstance } from 'fastify'
import type { DashboardDeps } from '../deps.ts'

export function healthRoutes(app: FastifyInstance, deps: DashboardDeps) {
  // Liveness: the process answers. Readiness: every component is up; degraded still counts as ready.
  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/readyz', async (_req, reply) => {
    const h = deps.health()
    reply.code(h.ready ? 200 : 503)
    return { status: !h.ready ? 'down' : h.degraded ? 'degraded' : 'ready', checks: h.checks }
  })
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.metrics.registry.contentType)
    return deps.metrics.registry.metrics()
  })
}
