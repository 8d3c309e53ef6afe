import type { FastifyInstance } from 'fastify'
import { buildApp, type RouteInfo, routesOf } from './app.ts'
import type { DashboardDeps } from './deps.ts'

export type { RouteInfo } from './app.ts'
export type { DashboardDeps, Health } from './deps.ts'

export function createDashboard(
  deps: DashboardDeps,
  options: { host: string; port: number; https?: { cert: string; key: string } },
) {
  let app: FastifyInstance | undefined
  return {
    async start(): Promise<{ port: number; url: string }> {
      app = await buildApp(deps, options.https)
      await app.listen({ host: options.host, port: options.port })
      const addr = app.server.address()
      const port = typeof addr === 'object' && addr ? addr.port : options.port
      const host = options.host.includes(':') ? `[${options.host}]` : options.host
      return { port, url: `${options.https ? 'https' : 'http'}://${host}:${port}` }
    },
    /** The routes served (for the access-matrix test). */
    routes(): RouteInfo[] {
      return app ? routesOf(app) : []
    },
    async close() {
      await app?.close()
    },
  }
}
