import http from 'node:http'
import https from 'node:https'
import type tls from 'node:tls'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type Harness, startHarness } from '../helpers/harness.ts'

// Transmission security (45 CFR 164.312(e)): any non-loopback bind serves HTTPS only, TLS 1.2+, HSTS,
// Secure cookies. The client trusts only the deployment's development CA.

let h: Harness
let port: number
beforeAll(async () => {
  h = await startHarness({ only: ['dashboard'], env: { VITALWIRE_HTTP_HOST: '0.0.0.0' } })
  port = Number(new URL(h.httpUrl).port)
})
afterAll(async () => h.close())

function request(
  opts: https.RequestOptions & { body?: string },
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string; protocol?: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: 'localhost', port, ca: h.ca, agent: false, ...opts }, (res) => {
      const protocol = (res.socket as tls.TLSSocket).getProtocol() ?? undefined
      let body = ''
      res.on('data', (c) => (body += c))
      res.on('end', () =>
        resolve({
          status: res.statusCode!,
          headers: res.headers,
          body,
          protocol,
        }),
      )
    })
    req.on('error', reject)
    req.end(opts.body)
  })
}

describe('HTTPS on a non-loopback bind', () => {
  it('serves HTTPS with the dev CA, TLS 1.2 or later, and HSTS', async () => {
    expect(h.httpUrl).toMatch(/^https:/)
    const res = await request({ path: '/healthz' })
    expect(res.status).toBe(200)
    expect(['TLSv1.2', 'TLSv1.3']).toContain(res.protocol)
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/)
  })

  it('refuses TLS 1.1 and older', async () => {
    await expect(request({ path: '/healthz', maxVersion: 'TLSv1.1', minVersion: 'TLSv1' })).rejects.toThrow()
  })

  it('does not serve plain HTTP on the port', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const req = http.get({ host: '127.0.0.1', port, path: '/healthz' }, (res) =>
        resolve(`http ${res.statusCode}`),
      )
      req.on('error', (e) => resolve(`error ${e.message}`))
      req.setTimeout(3000, () => {
        req.destroy()
        resolve('timeout')
      })
    })
    // The TLS server drops a plaintext request (no HTTP response at all, not even a redirect).
    expect(outcome).toMatch(/^error /)
  })

  it('marks the session cookie Secure', async () => {
    const password = await h.addUser('a@example.org', 'admin')
    const res = await request({
      method: 'POST',
      path: '/api/session',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'a@example.org', password }),
    })
    expect(res.status).toBe(201)
    const cookie = [res.headers['set-cookie']].flat().join('\n')
    expect(cookie).toMatch(/Secure/)
    expect(cookie).toMatch(/HttpOnly/)
    expect(cookie).toMatch(/SameSite=Strict/i)
  })
})
