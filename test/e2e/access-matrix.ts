import type WebSocket from 'ws'

// The access matrix: for every route, the request to make (aimed at team A's objects) and the status
// each caller must get. A new route needs a row here, or access-matrix.int.test.ts fails.

export type Role = 'admin' | 'coordinator' | 'clinician' | 'outsider' | 'anonymous'

export interface Ctx {
  alertA: string
  alertB: string
  obsA: string
  obsB: string
  spareUserId: number
  spareTokenId: string
  markers: { a: string[]; b: string[] }
  sockets: Record<Exclude<Role, 'anonymous'>, { ws: WebSocket; messages: string[] }>
}

interface Row {
  path: (c: Ctx, role: Role) => string
  body?: (c: Ctx, role: Role) => unknown
  expect: Record<Role, number>
}

/** Public, patient-free routes served by plugins (API docs, the web UI's static files). */
export const ROUTE_PREFIXES_PUBLIC = ['/docs', '/*']

const everyone = (status: number) =>
  ({ admin: status, coordinator: status, clinician: status, outsider: status, anonymous: status }) as const
/** Any signed-in user; objects are filtered to the care team (lists) or 404 (team A's objects). */
const teamA = (ok: number) => ({ admin: ok, coordinator: ok, clinician: ok, outsider: 404, anonymous: 401 })
const signedIn = (ok: number) => ({ admin: ok, coordinator: ok, clinician: ok, outsider: ok, anonymous: 401 })
const adminOnly = (ok: number) => ({
  admin: ok,
  coordinator: 403,
  clinician: 403,
  outsider: 403,
  anonymous: 401,
})
const fixed = (p: string) => () => p

export const MATRIX: Record<string, Row> = {
  'GET /healthz': { path: fixed('/healthz'), expect: everyone(200) },
  'GET /readyz': { path: fixed('/readyz'), expect: everyone(200) },
  'GET /metrics': { path: fixed('/metrics'), expect: everyone(200) },
  'POST /api/session': {
    path: fixed('/api/session'),
    body: () => ({ email: 'nobody@example.org', password: 'wrong' }),
    expect: everyone(401),
  },
  'GET /api/session': { path: fixed('/api/session'), expect: signedIn(200) },
  'DELETE /api/session': { path: fixed('/api/session'), expect: everyone(204) },
  'POST /api/session/password': {
    path: fixed('/api/session/password'),
    body: () => ({ current: 'not-the-password', next: 'a-long-new-passphrase' }),
    expect: everyone(401),
  },
  'GET /api/patients': { path: fixed('/api/patients'), expect: signedIn(200) },
  'GET /api/patients/:id': { path: fixed('/api/patients/pat-a'), expect: teamA(200) },
  'GET /api/patients/:id/readings': { path: fixed('/api/patients/pat-a/readings'), expect: teamA(200) },
  'POST /api/patients': {
    path: fixed('/api/patients'),
    body: (_c, role) => ({ id: `new-${role}`, name: 'New Patient' }),
    expect: adminOnly(201),
  },
  'PATCH /api/patients/:id': {
    path: fixed('/api/patients/pat-a'),
    body: () => ({ flags: { onOxygen: false } }),
    expect: adminOnly(200),
  },
  'GET /api/alerts': { path: fixed('/api/alerts'), expect: signedIn(200) },
  'POST /api/alerts/:id/ack': {
    path: (c) => `/api/alerts/${c.alertA}/ack`,
    body: () => ({}),
    expect: teamA(200),
  },
  'POST /api/alerts/:id/snooze': {
    path: (c) => `/api/alerts/${c.alertA}/snooze`,
    body: () => ({ minutes: 5 }),
    expect: teamA(200),
  },
  'POST /api/alerts/:id/resolve': {
    path: (c) => `/api/alerts/${c.alertA}/resolve`,
    body: () => ({ note: 'checked' }),
    // The first of the team resolves it; the others find it resolved (409), which still shows they may act
    // on it: an outsider is told it does not exist (404).
    expect: { admin: 200, coordinator: 409, clinician: 409, outsider: 404, anonymous: 401 },
  },
  'GET /api/devices': { path: fixed('/api/devices'), expect: signedIn(200) },
  'POST /api/devices': {
    path: fixed('/api/devices'),
    body: (_c, role) => ({ id: `dev-new-${role}`, patientId: 'pat-a' }),
    expect: adminOnly(201),
  },
  'DELETE /api/devices/:id': { path: fixed('/api/devices/dev-a-spare'), expect: adminOnly(204) },
  'GET /api/users': { path: fixed('/api/users'), expect: adminOnly(200) },
  'POST /api/users': {
    path: fixed('/api/users'),
    body: (_c, role) => ({ email: `made-by-${role}@example.org`, role: 'clinician', patients: [] }),
    expect: adminOnly(201),
  },
  'PUT /api/users/:id/patients': {
    path: (c) => `/api/users/${c.spareUserId}/patients`,
    body: () => ({ patients: ['pat-b'] }),
    expect: adminOnly(200),
  },
  'POST /api/users/:id/disable': {
    path: (c) => `/api/users/${c.spareUserId}/disable`,
    expect: adminOnly(200),
  },
  'POST /api/users/:id/enable': { path: (c) => `/api/users/${c.spareUserId}/enable`, expect: adminOnly(200) },
  'POST /api/users/:id/password': {
    path: (c) => `/api/users/${c.spareUserId}/password`,
    expect: adminOnly(201),
  },
  'POST /api/tokens': {
    path: fixed('/api/tokens'),
    body: () => ({ email: 'spare@example.org', label: 'matrix' }),
    expect: adminOnly(201),
  },
  'GET /api/tokens': { path: fixed('/api/tokens'), expect: adminOnly(200) },
  'DELETE /api/tokens/:id': { path: (c) => `/api/tokens/${c.spareTokenId}`, expect: adminOnly(204) },
  'GET /api/audit': { path: fixed('/api/audit?limit=1000'), expect: adminOnly(200) },
  // A plain GET (no upgrade) on the socket route; the pushes themselves are checked over real sockets.
  'GET /ws': { path: fixed('/ws'), expect: signedIn(404) },
  'GET /fhir/r4/metadata': { path: fixed('/fhir/r4/metadata'), expect: everyone(200) },
  'GET /fhir/r4/Observation': { path: fixed('/fhir/r4/Observation?_count=100'), expect: signedIn(200) },
  'GET /fhir/r4/Observation/:id': { path: (c) => `/fhir/r4/Observation/${c.obsA}`, expect: teamA(200) },
  'GET /fhir/r4/Patient/:id': { path: fixed('/fhir/r4/Patient/pat-a'), expect: teamA(200) },
  'GET /fhir/r4/Device/:id': { path: fixed('/fhir/r4/Device/dev-a'), expect: teamA(200) },
}
