import fs from 'node:fs'
import AjvCompiler from '@fastify/ajv-compiler'
import fastifyCookie from '@fastify/cookie'
import fastifyHelmet from '@fastify/helmet'
import fastifyRateLimit from '@fastify/rate-limit'
import fastifySession from '@fastify/session'
import fastifyStatic from '@fastify/static'
import fastifyWebsocket from '@fastify/websocket'
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify'
import FindMyWay, { type HTTPMethod } from 'find-my-way'
import { ERRORS, isVitalwireError, VitalwireError } from '../shared/errors.ts'
import { operationOutcome } from '../shared/fhir.ts'
import { auditReq } from './auth.ts'
import { throttleAnonymousDenials } from './denial-audit.ts'
import type { DashboardDeps } from './deps.ts'
import { registerDocs } from './docs.ts'
import { requestSerializer } from './log-url.ts'
import { foreignOrigin } from './origin.ts'
import { alertRoutes } from './routes/alerts.ts'
import { auditRoutes } from './routes/audit.ts'
import { deviceRoutes } from './routes/devices.ts'
import { fhirRoutes, type MethodNotAllowed } from './routes/fhir.ts'
import { healthRoutes } from './routes/health.ts'
import { patientRoutes } from './routes/patients.ts'
import { patientAdminRoutes } from './routes/patients-admin.ts'
import { sessionRoutes } from './routes/session.ts'
import { tokenRoutes } from './routes/tokens.ts'
import { userRoutes } from './routes/users.ts'
import { websocketRoutes } from './ws.ts'

// The app factory, kept apart from the code that listens (dashboard/index.ts), so tests can inject().

export interface RouteInfo {
  method: string
  url: string
}
const ROUTES = new WeakMap<FastifyInstance, RouteInfo[]>()

/**
 * From the routes registered (read when first asked, after every route is in). The static files'
 * wildcard is left out: it would make every path take GET.
 */
function methodNotAllowed(routes: RouteInfo[]): MethodNotAllowed {
  let known: { router: FindMyWay.Instance<FindMyWay.HTTPVersion.V1>; methods: string[] } | undefined
  return (req) => {
    if (!known) {
      const router = FindMyWay({ maxParamLength: 1000 })
      for (const { method, url } of routes)
        if (!url.includes('*')) router.on(method as HTTPMethod, url, () => {})
      known = { router, methods: [...new Set(routes.map((r) => r.method))] }
    }
    const { router, methods } = known
    const path = req.url.split('?')[0]
    const found = methods.filter((m) => router.find(m as HTTPMethod, path))
    if (found.length === 0) return undefined
    if (found.includes('GET')) found.push('HEAD')
    const allow = found.sort().join(', ')
    return { allow, message: `${req.method} is not allowed on ${path}; it takes ${allow}` }
  }
}

/** Every route the app serves, so a test can prove each one is covered by the access matrix. */
export function routesOf(app: FastifyInstance): RouteInfo[] {
  return ROUTES.get(app) ?? []
}

/**
 * Two validators. A query string or path is all text: "?limit=5" must become 5, so those are coerced. A
 * JSON body has types of its own, and a wrong one is the client's mistake: coerced, `{"monitoring": null}`
 * quietly became false and paused a patient's monitoring, and `"onOxygen": null` changed NEWS2 scoring.
 */
const buildValidator: AjvCompiler.BuildCompilerFromPool = (externalSchemas) => {
  const options = { removeAdditional: false, useDefaults: true } as const
  const factory = AjvCompiler()
  const coercing = factory(externalSchemas, { customOptions: { ...options, coerceTypes: 'array' } })
  const strict = factory(externalSchemas, { customOptions: { ...options, coerceTypes: false } })
  return (route) => (route.httpPart === 'body' ? strict(route) : coercing(route))
}

export async function buildApp(
  given: DashboardDeps,
  https?: { cert: string; key: string },
): Promise<FastifyInstance> {
  // Anonymous denials are summarised per address and minute (denial-audit.ts); the rest as given.
  const audit = throttleAnonymousDenials(given.audit)
  const deps: DashboardDeps = { ...given, audit }
  const app = Fastify({
    // Request log lines name the route, not the URL with its patient ids (log-url.ts).
    loggerInstance: deps.log.child({ component: 'dashboard' }, { serializers: { req: requestSerializer } }),
    bodyLimit: 256 * 1024,
    // Fastify's default (100) answered a longer id with a 414 in its own error shape: let it reach the
    // route, whose schema refuses it with a 400 like any other bad id.
    routerOptions: { maxParamLength: 1000 },
    trustProxy: false,
    ...(https ? { https: { cert: https.cert, key: https.key, minVersion: 'TLSv1.2' as const } } : {}),
    schemaController: { compilersFactory: { buildValidator } },
  }) as unknown as FastifyInstance
  // Before the audit log closes (the dashboard is stopped first): the last window's summaries.
  app.addHook('onClose', async () => audit.close())
  const routes: RouteInfo[] = []
  ROUTES.set(app, routes)
  app.addHook('onRoute', (r) => {
    for (const method of [r.method].flat()) if (method !== 'HEAD') routes.push({ method, url: r.url })
  })

  await app.register(fastifyHelmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
      },
    },
    // HSTS only where we serve HTTPS; on loopback HTTP it would be ignored anyway.
    hsts: deps.secure ? { maxAge: 31_536_000, includeSubDomains: true } : false,
  })
  // A change only from the dashboard's own pages (origin.ts): a page on another port of this host
  // could resolve alerts in a signed-in clinician's name with a body-less fetch.
  app.addHook('onRequest', async (req) => {
    if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return
    const origin = foreignOrigin(req)
    if (origin === undefined) return
    auditReq(deps, req, {
      action: `access:${req.method} ${req.routeOptions.url ?? req.url.split('?')[0]}`,
      outcome: 'denied',
      detail: { reason: 'origin', origin },
    })
    throw new VitalwireError('VW_ERR_FORBIDDEN', `a change from another origin (${origin}) is refused`)
  })
  // What the API and FHIR answer is patient data (or about it): no browser or proxy may keep a copy.
  app.addHook('onSend', async (req, reply) => {
    if ((req.url.startsWith('/api/') || req.url.startsWith('/fhir/')) && !reply.hasHeader('cache-control'))
      reply.header('cache-control', 'no-store')
  })
  await app.register(fastifyRateLimit, { global: false })
  await app.register(fastifyCookie)
  await app.register(fastifySession, {
    secret: deps.sessionSecret,
    cookieName: 'vw_session',
    store: deps.sessionStore as any,
    saveUninitialized: false,
    rolling: true,
    cookie: {
      httpOnly: true,
      sameSite: 'strict',
      secure: deps.secure,
      path: '/',
      maxAge: deps.sessionIdleMs,
    },
  })
  await app.register(fastifyWebsocket, {
    options: { maxPayload: 16 * 1024 },
    // Sockets close with 1001 "going away" on shutdown, as docs/api.md says; the plugin's own preClose
    // closed them with no code (1005) before ws.ts's onClose hook could say why.
    preClose(done) {
      for (const client of this.websocketServer.clients) client.close(1001, 'server shutting down')
      this.websocketServer.close()
      done()
    },
  })
  await registerDocs(app, deps.secure)

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (isVitalwireError(err) && err.status >= 500) {
      // A server-side fault (InfluxDB down or misconfigured): the catalog's message, since the error's
      // own may quote addresses or InfluxDB's answer, which stay in the log. 503 is for a while: retry.
      req.log.warn({ err }, 'request failed on the server side')
      if (err.status === 503) reply.header('retry-after', '5')
      return reply.code(err.status).send({ error: { code: err.code, message: ERRORS[err.code].message } })
    }
    if (isVitalwireError(err)) {
      return reply.code(err.status).send({ error: { code: err.code, message: err.message } })
    }
    if (err.validation) {
      return reply.code(400).send({ error: { code: 'VW_ERR_VALIDATION', message: err.message } })
    }
    if (err.statusCode === 401 || err.statusCode === 403) {
      const code = err.statusCode === 401 ? 'VW_ERR_AUTH_REQUIRED' : 'VW_ERR_FORBIDDEN'
      return reply.code(err.statusCode).send({ error: { code, message: err.message } })
    }
    if (err.statusCode === 429) {
      return reply
        .code(429)
        .send({ error: { code: 'VW_ERR_RATE_LIMITED', message: ERRORS.VW_ERR_RATE_LIMITED.message } })
    }
    if (err.statusCode === 413 || err.statusCode === 415) {
      const code = err.statusCode === 413 ? 'VW_ERR_PAYLOAD_TOO_LARGE' : 'VW_ERR_UNSUPPORTED_MEDIA_TYPE'
      return reply.code(err.statusCode).send({ error: { code, message: ERRORS[code].message } })
    }
    if (err.statusCode && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: { code: 'VW_ERR_VALIDATION', message: err.message } })
    }
    req.log.error({ err }, 'request failed')
    return reply
      .code(500)
      .send({ error: { code: 'VW_ERR_INTERNAL', message: ERRORS.VW_ERR_INTERNAL.message } })
  })
  // Bodies are JSON only: Fastify's own text/plain parser made a plain-text body a 400 about the
  // schema ("body must be object") instead of the documented 415.
  app.removeContentTypeParser('text/plain')
  const wrongMethod = methodNotAllowed(routes)
  app.setNotFoundHandler((req, reply) => {
    // The path exists, with other methods: 405 with the methods it takes (RFC 9110 15.5.6), not a 404
    // that tells an integrator the resource is missing.
    const wrong = wrongMethod(req)
    if (wrong)
      return reply
        .code(405)
        .header('allow', wrong.allow)
        .send({ error: { code: 'VW_ERR_METHOD_NOT_ALLOWED', message: wrong.message } })
    // The static files' wildcard route sends unknown GETs here, /fhir/r4/... included: answer FHIR in FHIR.
    if (req.url.startsWith('/fhir/r4/'))
      return reply
        .code(404)
        .type('application/fhir+json; charset=utf-8')
        .send(operationOutcome('not-supported', `${req.method} ${req.url.split('?')[0]} is not supported`))
    return reply.code(404).send({ error: { code: 'VW_ERR_NOT_FOUND', message: 'not found' } })
  })

  healthRoutes(app, deps)
  sessionRoutes(app, deps)
  patientRoutes(app, deps)
  patientAdminRoutes(app, deps)
  alertRoutes(app, deps)
  deviceRoutes(app, deps)
  userRoutes(app, deps)
  tokenRoutes(app, deps)
  auditRoutes(app, deps)
  await app.register(async (fhir) => fhirRoutes(fhir, deps, wrongMethod), { prefix: '/fhir/r4' })
  websocketRoutes(app, deps)

  if (deps.webRoot && fs.existsSync(deps.webRoot)) {
    await app.register(fastifyStatic, { root: deps.webRoot, prefix: '/', index: ['index.html'] })
  }
  return app
}
