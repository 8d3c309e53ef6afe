import { describe, expect, it } from 'vitest'
import { placeMoved, rankPatients } from './rank.ts'
import type { AlertItem, PatientRow } from './store.ts'

const NOW = Date.parse('2026-11-27T12:00:00Z')
const fresh = {
  'heart-rate': { type: 'heart-rate', effective: '2026-11-27T11:00:00Z', values: { value: 70 } },
}
const old = { 'heart-rate': { type: 'heart-rate', effective: '2026-11-25T11:00:00Z', values: { value: 70 } } }

function p(id: string, latest: PatientRow['latest'] = fresh, monitoring = true): PatientRow {
  return { id, name: id.toUpperCase(), latest, monitoring }
}
function a(patientId: string, severity: AlertItem['severity'], extra: Partial<AlertItem> = {}): AlertItem {
  return {
    id: `${patientId}-${severity}-${extra.rule ?? 'x'}`,
    patientId,
    rule: 'x',
    severity,
    status: 'open',
    message: '',
    openedAt: '2026-11-27T11:00:00Z',
    updatedAt: '2026-11-27T11:00:00Z',
    count: 1,
    ...extra,
  }
}

function order(patients: PatientRow[], alerts: AlertItem[]) {
  const by = new Map<string, AlertItem[]>()
  for (const x of alerts) by.set(x.patientId, [...(by.get(x.patientId) ?? []), x])
  return rankPatients(patients, by, NOW).map((r) => r.p.id)
}

describe('worklist order: who needs attention first', () => {
  it('open alerts by severity, then NEWS2 score, then stale data, then name', () => {
    const patients = [
      p('calm'),
      p('stale', old),
      p('news5'),
      p('news7'),
      p('high'),
      p('crit'),
      p('never', {}),
    ]
    const alerts = [
      a('high', 'high'),
      a('crit', 'critical'),
      a('news5', 'medium', { rule: 'news2', score: 5 }),
      a('news7', 'medium', { rule: 'news2', score: 7 }),
    ]
    expect(order(patients, alerts)).toEqual(['crit', 'high', 'news7', 'news5', 'never', 'stale', 'calm'])
  })

  it('ranks an acknowledged alert below an open one of the same severity, above nothing', () => {
    const alerts = [a('acked', 'critical', { status: 'acknowledged' }), a('open', 'high')]
    expect(order([p('calm'), p('acked'), p('open')], alerts)).toEqual(['open', 'acked', 'calm'])
  })

  it('ignores resolved alerts and does not call a paused patient stale', () => {
    const alerts = [a('resolved', 'critical', { status: 'resolved' })]
    expect(order([p('paused', {}, false), p('resolved'), p('stale', old)], alerts)).toEqual([
      'stale',
      'resolved',
      'paused',
    ])
  })
})

describe('placeMoved', () => {
  // A seeded generator: the same cases on every run.
  let seed = 7
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31
    return seed % n
  }
  it.each([0, 1, 2, 5, 30])('re-placing %i changed keys gives the order a full sort gives', (changes) => {
    for (let round = 0; round < 50; round++) {
      const rank = new Map(Array.from({ length: 200 }, (_, i) => [`k${i}`, rand(20)]))
      const compare = (a: string, b: string) => rank.get(b)! - rank.get(a)! || (a < b ? -1 : a > b ? 1 : 0)
      const order = [...rank.keys()].sort(compare)
      const moved = Array.from({ length: changes }, () => `k${rand(200)}`)
      for (const k of moved) rank.set(k, rand(20))
      expect(placeMoved(order, moved, compare)).toEqual([...rank.keys()].sort(compare))
    }
  })
})
