import { describe, expect, it } from 'vitest'
import { dateRange, parseObservationSearch } from './fhir-search.ts'

const ok = (q: Record<string, unknown>) => {
  const r = parseObservationSearch(q)
  if (!r.ok) throw new Error(r.message)
  return r
}

describe('parseObservationSearch', () => {
  it.each([
    [{ patient: 'p1,p2' }, ['p1', 'p2']],
    [{ patient: ['p1,p2', 'Patient/p2'] }, ['p2']], // repeated = AND
    [{ patient: 'p1', subject: 'Patient/p3' }, []],
    [{ subject: 'Patient/p1' }, ['p1']],
  ])('patient/subject %j -> %j', (q, ids) => {
    expect(ok(q).query.patientIds).toEqual(ids)
  })

  it('ORs codes within a parameter and ANDs repetitions', () => {
    expect(ok({ code: 'http://loinc.org|8867-4,85354-9' }).query.types?.sort()).toEqual([
      'blood-pressure',
      'heart-rate',
    ])
    expect(ok({ code: ['8867-4,85354-9', '85354-9'] }).query.types).toEqual(['blood-pressure'])
    expect(ok({ code: 'http://snomed.info/sct|8867-4' }).query.types).toEqual([])
    // `|code`: the code with no system; every code here has one.
    expect(ok({ code: '|8867-4' }).query.types).toEqual([])
  })

  it('finds only the step counts that carry the code asked for (day totals are steps with a flag)', () => {
    const steps = (q: Record<string, unknown>) => {
      const { types, steps } = ok(q).query
      return { types, steps }
    }
    expect(steps({ code: '41950-7' })).toEqual({ types: ['steps'], steps: 'daily' })
    expect(steps({ code: 'http://loinc.org|55423-8' })).toEqual({ types: ['steps'], steps: 'interval' })
    expect(steps({ code: '55423-8,41950-7' })).toEqual({ types: ['steps'], steps: undefined })
    // A day total OR a heart rate: the filter narrows the step counts only.
    expect(steps({ code: '41950-7,8867-4' })).toEqual({ types: ['steps', 'heart-rate'], steps: 'daily' })
    // Repetitions are AND: no Observation carries both codes.
    expect(steps({ code: ['55423-8', '41950-7'] })).toEqual({ types: [], steps: undefined })
    expect(steps({ code: ['55423-8,41950-7', '41950-7'] })).toEqual({ types: ['steps'], steps: 'daily' })
    // No code: both kinds.
    expect(steps({ category: 'activity' })).toEqual({ types: ['steps'], steps: undefined })
  })

  it('narrows repeated date bounds to the tightest window', () => {
    const q = ok({ date: ['ge2026-01-01', 'lt2026-02-01', 'gt2026-01-10'] }).query
    expect(q.fromMs).toBe(Date.UTC(2026, 0, 11))
    expect(q.toMs).toBe(Date.UTC(2026, 1, 1))
    expect(q.toExclusive).toBe(true)
    const eq = ok({ date: '2026-03-04T10:00' }).query
    expect([eq.fromMs, eq.toMs]).toEqual([Date.UTC(2026, 2, 4, 10), Date.UTC(2026, 2, 4, 10, 1)])
  })

  it.each([
    [{ foo: '1' }, 'not-supported'],
    [{ 'code:text': 'x' }, 'not-supported'],
    [{ date: 'ne2026-01-01' }, 'value'],
    [{ _count: '1001' }, 'value'],
    [{ _sort: 'status' }, 'not-supported'],
    [{ _cursor: 'x' }, 'value'],
    [{ patient: 'a b' }, 'value'],
  ])('rejects %j as %s', (q, code) => {
    const r = parseObservationSearch(q)
    expect(r.ok).toBe(false)
    if (!r.ok) expect(r.code).toBe(code)
  })

  it('accepts _total and skips counting only for none', () => {
    expect(ok({ _total: 'none' }).total).toBe('none')
    expect(ok({ _total: 'accurate' }).total).toBe('accurate')
    expect(ok({ _total: 'estimate' }).total).toBe('estimate')
    expect(ok({}).total).toBe('estimate')
    expect(parseObservationSearch({ _total: 'maybe' }).ok).toBe(false)
  })

  it('reads the total carried in a page cursor', () => {
    expect(ok({ _cursor: 'n.WzEsImEiXQ.525600' }).cursor).toEqual({
      dir: 'next',
      value: 'WzEsImEiXQ',
      total: 525600,
    })
    expect(ok({ _cursor: 'p.WzEsImEiXQ' }).cursor).toEqual({
      dir: 'prev',
      value: 'WzEsImEiXQ',
      total: undefined,
    })
  })

  it('gives dates their precision as a range', () => {
    expect(dateRange('2026')).toEqual([Date.UTC(2026, 0, 1), Date.UTC(2027, 0, 1)])
    expect(dateRange('2026-02')).toEqual([Date.UTC(2026, 1, 1), Date.UTC(2026, 2, 1)])
    expect(dateRange('2026-02-03T04:05:06+01:00')).toEqual([
      Date.UTC(2026, 1, 3, 3, 5, 6),
      Date.UTC(2026, 1, 3, 3, 5, 7),
    ])
    expect(dateRange('yesterday')).toBeUndefined()
    // Fractions too: .2 is a tenth of a second wide (it was 1 ms, so 11:00:00.250 was not "at .2").
    const s = Date.UTC(2026, 11, 3, 11)
    expect(dateRange('2026-12-03T11:00:00.2Z')).toEqual([s + 200, s + 300])
    expect(dateRange('2026-12-03T11:00:00.25Z')).toEqual([s + 250, s + 260])
    expect(dateRange('2026-12-03T11:00:00.250Z')).toEqual([s + 250, s + 251])
    expect(dateRange('2026-12-03T11:00:00.2505Z')).toEqual([s + 250, s + 251])
  })

  it('reads token searches as FHIR does: system|, |code and a bare code', () => {
    // `system|`: any code of that system (it found nothing).
    expect(ok({ code: 'http://loinc.org|' }).query).toMatchObject({
      types: expect.arrayContaining(['spo2', 'steps']),
    })
    expect(ok({ code: 'http://loinc.org|' }).query.steps).toBeUndefined()
    expect(ok({ code: 'http://snomed.info/sct|' }).query.types).toEqual([])
    const cat = (c: string) => ok({ category: c }).query.types
    expect(cat('http://terminology.hl7.org/CodeSystem/observation-category|')).toEqual(
      cat('vital-signs,laboratory,activity'),
    )
    expect(cat('vital-signs')).toContain('heart-rate')
    expect(cat('http://terminology.hl7.org/CodeSystem/observation-category|vital-signs')).toEqual(
      cat('vital-signs'),
    )
    // `|x`: no system; every category here has one (it matched the vital signs).
    expect(cat('|vital-signs')).toEqual([])
  })

  it('refuses impossible dates instead of rolling them over into another day', () => {
    for (const bad of [
      '2026-11-33',
      '2026-02-30',
      '2026-13',
      '2026-00-10',
      '2026-02-29T10:00Z',
      '2026-11-03T24:00Z',
      '2026-11-03T10:60Z',
    ])
      expect(dateRange(bad), bad).toBeUndefined()
    expect(dateRange('2028-02-29')).toEqual([Date.UTC(2028, 1, 29), Date.UTC(2028, 2, 1)])
    expect(parseObservationSearch({ date: 'ge2026-02-30' }).ok).toBe(false)
  })

  it('takes an absolute patient reference on this server, and refuses one on another', () => {
    const base = 'https://rpm.example.org/fhir/r4'
    const r = parseObservationSearch({ patient: `${base}/Patient/p1,Patient/p2` }, base)
    expect(r.ok && r.query.patientIds).toEqual(['p1', 'p2'])
    const other = parseObservationSearch(
      { patient: 'https://elsewhere.example.org/fhir/r4/Patient/p1' },
      base,
    )
    expect(other).toMatchObject({
      ok: false,
      code: 'value',
      message: expect.stringMatching(/not on this server/),
    })
  })
})
