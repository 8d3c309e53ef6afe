import fastifySwagger from '@fastify/swagger'
import fastifySwaggerUi from '@fastify/swagger-ui'
import type { FastifyInstance } from 'fastify'

// OpenAPI document (generated from the routes' JSON schemas) at /docs/json, and Swagger UI at /docs.

/**
 * Swagger UI needs its own Content-Security-Policy: its inline bootstrap is allowed by hash (the plugin
 * computes them), and React sets inline style attributes. Nothing may load from other origins, and the
 * page may not be framed. Every other route keeps the strict policy set by helmet.
 */
export function docsCsp(header: string, secure: boolean): string {
  return header
    .split(';')
    .map((d) => d.trim())
    .filter((d) => d && !(d === 'upgrade-insecure-requests' && !secure))
    .map((d) => {
      const [name, ...values] = d.split(/\s+/)
      const kept = values.filter((v) => v !== 'https:' && v !== 'validator.swagger.io')
      if (name === 'frame-ancestors' || name === 'base-uri') return `${name} 'none'`
      if (name === 'style-src') return `${name} ${[...kept, "'unsafe-inline'"].join(' ')}`
      return [name, ...kept].join(' ')
    })
    .concat(["connect-src 'self'", "form-action 'self'"])
    .join('; ')
}

export async function registerDocs(app: FastifyInstance, secure: boolean) {
  await app.register(fastifySwagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Vitalwire API',
        version: '1',
        description:
          'REST API of the Vitalwire dashboard. FHIR R4 is at /fhir/r4 (CapabilityStatement at /fhir/r4/metadata). Errors are {"error":{"code","message"}} with codes from docs/errors.md.',
      },
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'vw_session' },
          token: { type: 'http', scheme: 'bearer' },
        },
      },
      security: [{ session: [] }, { token: [] }],
      tags: [
        { name: 'session', description: 'login, logout, password' },
        { name: 'patients', description: 'worklist and patient detail (care team only)' },
        { name: 'alerts', description: 'alert feed and actions (care team only)' },
        { name: 'devices', description: 'devices (care team only; changes by admins)' },
        { name: 'admin', description: 'admins only' },
        { name: 'health', description: 'liveness, readiness and metrics (no login)' },
      ],
    },
  })
  await app.register(fastifySwaggerUi, {
    routePrefix: '/docs',
    uiConfig: { validatorUrl: null, deepLinking: false },
    staticCSP: true,
    transformStaticCSP: (header) => docsCsp(header, secure),
  })
}
