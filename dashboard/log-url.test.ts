import { describe, expect, it } from 'vitest'
import { loggedUrl } from './log-url.ts'

describe('request log URLs', () => {
  it.each([
    ['/api/patients/MRN-1234', '/api/patients/:id', '/api/patients/:id'],
    [
      '/fhir/r4/Observation?patient=MRN-1&code=8867-4&patient=MRN-2',
      '/fhir/r4/Observation',
      '/fhir/r4/Observation?patient=…&code=…',
    ],
    ['/api/alerts?status=open', '/api/alerts', '/api/alerts?status=…'],
    ['/healthz', '/healthz', '/healthz'],
    ['/api/nothing/MRN-1234/more?x=1', undefined, '/api/nothing/…?x=…'],
    ['/favicon.ico', undefined, '/favicon.ico'],
    ['/api/nothing/MRN-1234', '/*', '/api/nothing/…'],
    ['/assets/app.js', '/*', '/assets/app.js'],
  ])('%s is logged as its route %s', (url, route, expected) => {
    const logged = loggedUrl({ url, routeOptions: { url: route } })
    expect(logged).toBe(expected)
    expect(logged).not.toContain('MRN')
  })
})
