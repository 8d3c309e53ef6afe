import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Caller, call } from '../helpers/api-client.ts'
import { type Harness, startHarness } from '../helpers/harness.ts'

// The request log is not access-controlled as the audit log is: it names routes, never the patient ids
// in a request's path or query (dashboard/log-url.ts). The harness logs at debug, the most verbose level.

let h: Harness
let admin: Caller

beforeAll(async () => {
  h = await startHarness({ only: ['dashboard'] })
  await h.enrollPatient('mrn-4711', { name: 'Ada Lovelace' })
  admin = {
    name: 'admin',
    cookie: await h.login('admin@example.org', await h.addUser('admin@example.org', 'admin')),
  }
})

afterAll(async () => {
  await h.close()
})

describe('request log', () => {
  it('names the route and the query parameters, not the patient ids in them', async () => {
    expect((await call(h.httpUrl, admin, 'GET', '/api/patients/mrn-4711')).status).toBe(200)
    expect((await call(h.httpUrl, admin, 'GET', '/fhir/r4/Observation?patient=mrn-4711')).status).toBe(200)
    expect((await call(h.httpUrl, admin, 'GET', '/api/nothing/mrn-4711')).status).toBe(404)
    expect((await call(h.httpUrl, undefined, 'GET', '/api/patients/mrn-4711')).status).toBe(401)

    const urls = h.logs.filter((l) => l.msg === 'incoming request').map((l) => (l as any).req.url)
    expect(urls).toEqual(
      expect.arrayContaining(['/api/patients/:id', '/fhir/r4/Observation?patient=…', '/api/nothing/…']),
    )
    const leaks = h.logs.filter((l) => JSON.stringify(l).includes('mrn-4711'))
    expect(leaks).toEqual([])
  })
})
