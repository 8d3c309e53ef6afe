import { describe, expect, it } from 'vitest'
import type { AuditEntry } from '../storage/ports.ts'
import { throttleAnonymousDenials } from './denial-audit.ts'

// The window and the address cap, on a clock the test moves (the HTTP path is covered end to end by
// test/e2e/api-audit-flood.int.test.ts).

const denial = (ip: string, route = 'GET /api/patients'): AuditEntry => ({
  actor: 'anonymous',
  action: `access:${route}`,
  outcome: 'denied',
  ip,
  detail: { reason: 'unauthenticated' },
})

function setup(maxAddresses = 100) {
  const written: AuditEntry[] = []
  let t = Date.parse('2026-12-03T10:00:00Z')
  const audit = throttleAnonymousDenials(
    { append: (e: AuditEntry) => written.push(e), tag: 'kept' },
    { windowMs: 60_000, maxAddresses, now: () => t },
  )
  return { audit, written, advance: (ms: number) => (t += ms) }
}

describe('anonymous denials in the audit log', () => {
  it('writes the first of a window, summarises the rest when the next window starts, and starts again', () => {
    const { audit, written, advance } = setup()
    audit.append(denial('10.0.0.1'))
    for (let i = 0; i < 5; i++) {
      advance(1_000)
      audit.append(denial('10.0.0.1', 'GET /api/alerts'))
    }
    expect(written).toHaveLength(1)
    advance(60_000)
    audit.append(denial('10.0.0.1'))
    expect(written.map((e) => e.action)).toEqual([
      'access:GET /api/patients',
      'access:repeated',
      'access:GET /api/patients',
    ])
    expect(written[1]).toMatchObject({
      ip: '10.0.0.1',
      detail: {
        repeats: 5,
        routes: ['access:GET /api/alerts'],
        from: '2026-12-03T10:00:00.000Z',
        to: '2026-12-03T10:00:05.000Z',
      },
    })
    audit.close()
  })

  it('summarises changes sent from another origin like requests without credentials (a script can loop them)', () => {
    const { audit, written, advance } = setup()
    const foreign = (): AuditEntry => ({
      actor: 'anonymous',
      action: 'access:POST /api/alerts/:id/resolve',
      outcome: 'denied',
      ip: '10.0.0.9',
      detail: { reason: 'origin', origin: 'http://evil.example' },
    })
    for (let i = 0; i < 4; i++) audit.append(foreign())
    audit.append(denial('10.0.0.9'))
    expect(written).toHaveLength(1)
    advance(60_000)
    audit.flush()
    expect(written[1]).toMatchObject({
      action: 'access:repeated',
      ip: '10.0.0.9',
      detail: { reason: 'origin+unauthenticated', repeats: 4 },
    })
    audit.close()
  })

  it("passes every other entry through untouched, and keeps the store's other methods", () => {
    const { audit, written } = setup()
    const others: AuditEntry[] = [
      {
        actor: 'a@example.org',
        action: 'ws.connect',
        outcome: 'denied',
        ip: '10.0.0.1',
        detail: { reason: 'origin' },
      },
      {
        actor: 'a@example.org',
        action: 'login',
        outcome: 'failed',
        ip: '10.0.0.1',
        detail: { reason: 'password' },
      },
      {
        actor: 'a@example.org',
        action: 'access:GET /api/users',
        outcome: 'denied',
        detail: { reason: 'role' },
      },
    ]
    for (let i = 0; i < 3; i++) for (const e of others) audit.append(e)
    expect(written).toHaveLength(9)
    expect(audit.tag).toBe('kept')
    audit.close()
  })

  it('summarises addresses beyond the cap together, and flushes every window on close', () => {
    const { audit, written } = setup(2)
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.1']) audit.append(denial(ip))
    expect(written.map((e) => e.ip)).toEqual(['10.0.0.1', '10.0.0.2'])
    audit.close()
    const summaries = written.slice(2)
    expect(summaries.map((e) => [e.ip, e.detail?.repeats])).toEqual([
      ['10.0.0.1', 1],
      [undefined, 2],
    ])
    expect(summaries[1].detail?.addresses).toMatch(/beyond/)
  })
})
