import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { observationResource, type StoredObservation } from '../../shared/fhir.ts'
import type { ReadingQuery, ReadingStore } from '../../storage/ports.ts'
import { heartRates, ids, NOW_MS, observe } from './fixtures.ts'

// The readings contract, in the aedes-persistence way: every ReadingStore adapter must pass it.
// `makeStore` returns a fresh, empty store and a cleanup.

export type MakeStore = () => Promise<{ store: ReadingStore; cleanup?: () => Promise<void> }>

const T0 = NOW_MS - 3_600_000

async function allPages(store: ReadingStore, q: ReadingQuery): Promise<StoredObservation[]> {
  const out: StoredObservation[] = []
  let after: string | undefined
  for (let i = 0; i < 1000; i++) {
    const page = await store.search({ ...q, after })
    expect(page.items.length).toBeLessThanOrEqual(q.limit)
    out.push(...page.items)
    if (!page.next) return out
    after = page.next
  }
  throw new Error('paging did not end')
}

export function describeReadingStore(name: string, makeStore: MakeStore) {
  describe(`ReadingStore contract: ${name}`, () => {
    let store: ReadingStore
    let cleanup: (() => Promise<void>) | undefined
    beforeEach(async () => {
      ;({ store, cleanup } = await makeStore())
    })
    afterEach(async () => {
      await store.close()
      await cleanup?.()
    })

    it('reads back exactly the Observation it stored, BP components, pulse and LO glucose included', async () => {
      const { patient, device } = ids()
      const batch = [
        ...observe(device, patient, {
          id: 'bp',
          type: 'blood-pressure',
          systolic: 128,
          diastolic: 82,
          pulse: 71,
          ts: T0,
        }),
        ...observe(device, patient, {
          id: 'g',
          type: 'blood-glucose',
          value: 'LO',
          unit: 'mg/dL',
          ts: T0 + 1,
        }),
        ...observe(device, patient, {
          id: 't',
          type: 'body-temperature',
          value: 100.4,
          unit: 'degF',
          ts: T0 + 2,
        }),
        ...observe(device, patient, {
          id: 's',
          type: 'spo2',
          value: 65,
          ts: '2026-11-27T10:59:00.123+05:30',
        }),
        // No device clock: receive time, flagged; and a second flag from the low SpO2.
        ...observe(device, patient, { id: 'n', type: 'spo2', value: 68 }),
      ]
      const resources = batch.map(observationResource)
      expect(resources.some((r) => r.component?.length === 2)).toBe(true)
      expect(resources.some((r) => r.dataAbsentReason && r.interpretation?.length === 2)).toBe(true)
      expect(resources.some((r) => r.meta.tag?.length === 2)).toBe(true)
      expect(resources.some((r) => r.effectiveDateTime.endsWith('+05:30'))).toBe(true)
      await store.write(batch)
      for (const [i, o] of batch.entries()) {
        const back = await store.get(o.id)
        expect(back).toEqual(o)
        expect(observationResource(back!)).toEqual(resources[i])
      }
      const page = await store.search({ patientIds: [patient], sort: 'asc', limit: 10 })
      const byKey = (a: StoredObservation, b: StoredObservation) => (a.key < b.key ? -1 : 1)
      expect([...page.items].sort(byKey)).toEqual([...batch].sort(byKey))
    })

    it('stores a replayed batch once', async () => {
      const { patient, device } = ids()
      const batch = heartRates(device, patient, 5, T0)
      await store.write(batch)
      await store.write(batch)
      await store.write([batch[2]])
      expect(await store.count({ patientIds: [patient] })).toBe(5)
      const page = await store.search({ patientIds: [patient], sort: 'asc', limit: 100 })
      expect(page.items.map((o) => o.key)).toEqual(batch.map((o) => o.key))
    })

    it('keeps two different readings from one device in the same millisecond', async () => {
      const { patient, device } = ids()
      const batch = ['a', 'b', 'c'].flatMap((id) =>
        observe(device, patient, { id, type: 'heart-rate', value: 70, ts: T0 }),
      )
      await store.write(batch)
      expect(await store.count({ patientIds: [patient] })).toBe(3)
      for (const o of batch) expect((await store.get(o.id))?.key).toBe(o.key)
    })

    it('filters by patient, type and time range with inclusive and exclusive bounds', async () => {
      const { patient, other, device, device2 } = ids()
      const mine = heartRates(device, patient, 5, T0)
      const spo2 = observe(device, patient, { id: 'o', type: 'spo2', value: 97, ts: T0 + 60_000 })
      const theirs = heartRates(device2, other, 3, T0)
      await store.write([...mine, ...spo2, ...theirs])
      const keys = async (q: Omit<ReadingQuery, 'sort' | 'limit'>) =>
        (await store.search({ ...q, sort: 'asc', limit: 100 })).items.map((o) => o.key)
      expect(await keys({ patientIds: [patient], types: ['heart-rate'] })).toEqual(mine.map((o) => o.key))
      expect(await keys({ patientIds: [patient], types: ['spo2'] })).toEqual([spo2[0].key])
      expect((await keys({ patientIds: [patient, other] })).length).toBe(9)
      expect(await keys({ patientIds: [] })).toEqual([])
      expect(await keys({ patientIds: [patient], types: [] })).toEqual([])
      const t = (i: number) => T0 + i * 60_000
      const hr = { patientIds: [patient], types: ['heart-rate' as const] }
      expect(await keys({ ...hr, fromMs: t(1), toMs: t(3) })).toEqual(mine.slice(1, 4).map((o) => o.key))
      expect(await keys({ ...hr, fromMs: t(1), fromExclusive: true, toMs: t(3), toExclusive: true })).toEqual(
        [mine[2].key],
      )
      expect(await store.count({ ...hr, fromMs: t(1), toMs: t(3) })).toBe(3)
      expect(await store.count({ patientIds: [patient, other] })).toBe(9)
      expect(await store.count({ patientIds: [patient], types: ['spo2', 'heart-rate'] })).toBe(6)
      expect(await store.count({ patientIds: [] })).toBe(0)
    })

    it('tells day totals of steps from the other step counts, in searches, pages and counts', async () => {
      const { patient, device } = ids()
      const t = (i: number) => T0 + i * 60_000
      const steps = (id: string, unit: string, i: number) =>
        observe(device, patient, { id, type: 'steps', value: 100 + i, unit, ts: t(i) })
      // Day totals among interval counts, and one at the very end (the last page holds only it).
      const interval = [0, 1, 3, 4, 6, 7].flatMap((i) => steps(`s-${i}`, '{steps}', i))
      const daily = [2, 5, 8].flatMap((i) => steps(`d-${i}`, '/d', i))
      const hr = observe(device, patient, { id: 'hr', type: 'heart-rate', value: 70, ts: t(3) })
      await store.write([...interval, ...daily, ...hr])
      const base = { patientIds: [patient], types: ['steps' as const] }
      for (const sort of ['asc', 'desc'] as const) {
        const order = (os: StoredObservation[]) => (sort === 'asc' ? os : [...os].reverse()).map((o) => o.key)
        const keys = async (q: Omit<ReadingQuery, 'sort' | 'limit'>, limit: number) =>
          (await allPages(store, { ...q, sort, limit })).map((o) => o.key)
        for (const limit of [1, 2, 100]) {
          expect(await keys({ ...base, steps: 'daily' }, limit)).toEqual(order(daily))
          expect(await keys({ ...base, steps: 'interval' }, limit)).toEqual(order(interval))
        }
        expect(await keys(base, 4)).toEqual(
          order([...interval, ...daily].sort((a, b) => a.effectiveMs - b.effectiveMs)),
        )
        // Other types are not narrowed by it.
        const withHr = await keys({ ...base, types: ['steps', 'heart-rate'], steps: 'daily' }, 2)
        expect(withHr.sort()).toEqual([...daily, ...hr].map((o) => o.key).sort())
      }
      // A long history of day totals with two other counts at its end, read one page at a time.
      const { patient: p2, device: d2 } = ids()
      const days = Array.from({ length: 40 }, (_, i) =>
        observe(d2, p2, {
          id: `day-${i}`,
          type: 'steps',
          value: 5000 + i,
          unit: '/d',
          ts: T0 - (41 - i) * 60_000,
        }),
      ).flat()
      const last = [0, 1].flatMap((i) =>
        observe(d2, p2, { id: `x-${i}`, type: 'steps', value: i, unit: '{steps}', ts: t(i) }),
      )
      await store.write([...days, ...last])
      for (const sort of ['asc', 'desc'] as const) {
        const got = await allPages(store, {
          patientIds: [p2],
          types: ['steps'],
          steps: 'interval',
          sort,
          limit: 1,
        })
        expect(got.map((o) => o.key)).toEqual((sort === 'asc' ? last : [...last].reverse()).map((o) => o.key))
      }
      expect(await store.count({ ...base, steps: 'daily' })).toBe(3)
      expect(await store.count({ ...base, steps: 'interval' })).toBe(6)
      expect(await store.count({ patientIds: [patient], steps: 'interval' })).toBe(7)
      expect(await store.count(base)).toBe(9)
    })

    it('sorts by effective time both ways and pages through every reading exactly once', async () => {
      const { patient, device, device2 } = ids()
      // Ties on purpose: several readings share one millisecond across devices and types.
      const batch = [
        ...heartRates(device, patient, 12, T0),
        ...['x', 'y', 'z'].flatMap((id) =>
          observe(device2, patient, { id, type: 'spo2', value: 95, ts: T0 + 120_000 }),
        ),
        ...observe(device2, patient, { id: 'w', type: 'heart-rate', value: 90, ts: T0 + 120_000 }),
      ]
      await store.write(batch)
      for (const sort of ['asc', 'desc'] as const) {
        const all = (await store.search({ patientIds: [patient], sort, limit: 100 })).items
        expect(all).toHaveLength(batch.length)
        const ms = all.map((o) => o.effectiveMs)
        expect(ms).toEqual([...ms].sort((a, b) => (sort === 'asc' ? a - b : b - a)))
        for (const limit of [1, 2, 5]) {
          const paged = await allPages(store, { patientIds: [patient], sort, limit })
          expect(paged.map((o) => o.key)).toEqual(all.map((o) => o.key))
        }
      }
    })

    it('gives a cursor at any observation that pages on from it, either way (FHIR next and previous links)', async () => {
      const { patient, device, device2 } = ids()
      const batch = [
        ...heartRates(device, patient, 6, T0),
        ...['x', 'y'].flatMap((id) =>
          observe(device2, patient, { id, type: 'spo2', value: 95, ts: T0 + 120_000 }),
        ),
      ]
      await store.write(batch)
      for (const sort of ['asc', 'desc'] as const) {
        const all = (await store.search({ patientIds: [patient], sort, limit: 100 })).items
        for (const [i, o] of all.entries()) {
          const rest = await store.search({
            patientIds: [patient],
            sort,
            limit: 100,
            after: store.cursorAt(o),
          })
          expect(
            rest.items.map((r) => r.key),
            `${sort} after #${i}`,
          ).toEqual(all.slice(i + 1).map((r) => r.key))
        }
      }
    })

    it('takes date bounds far in the past or future (no bound at all, or nothing) without failing', async () => {
      const { patient, device } = ids()
      await store.write(heartRates(device, patient, 3, T0))
      const search = (range: { fromMs?: number; toMs?: number }) =>
        store.search({ patientIds: [patient], sort: 'asc', limit: 10, ...range })
      const y = (year: string) => Date.parse(`${year}-01-01T00:00:00Z`)
      expect((await search({ fromMs: y('1600'), toMs: y('2300') })).items).toHaveLength(3)
      expect((await search({ toMs: Date.parse('9999-12-31T00:00:00Z') })).items).toHaveLength(3)
      expect((await search({ fromMs: y('2300') })).items).toHaveLength(0)
      expect((await search({ toMs: y('1600') })).items).toHaveLength(0)
      expect(await store.count({ patientIds: [patient], fromMs: y('1600'), toMs: y('2300') })).toBe(3)
      expect(await store.count({ patientIds: [patient], fromMs: y('2300') })).toBe(0)
    })

    it('refuses a cursor it did not issue instead of starting again from the first page', async () => {
      const { patient, device } = ids()
      await store.write(heartRates(device, patient, 3, T0))
      const first = await store.search({ patientIds: [patient], sort: 'asc', limit: 1 })
      expect(first.next).toBeDefined()
      for (const after of ['garbage', `${first.next}x`, Buffer.from('[1,2]').toString('base64url')])
        await expect(
          store.search({ patientIds: [patient], sort: 'asc', limit: 1, after }),
          after,
        ).rejects.toMatchObject({
          code: 'VW_ERR_VALIDATION',
        })
    })

    it('returns the latest reading per type for each patient', async () => {
      const { patient, other, device, device2 } = ids()
      const hr = heartRates(device, patient, 4, T0)
      const spo2 = [96, 97].flatMap((v, i) =>
        observe(device, patient, { id: `o${i}`, type: 'spo2', value: v, ts: T0 + i * 1000 }),
      )
      const theirs = heartRates(device2, other, 2, T0)
      // Written out of order: a late upload of an old reading must not become the latest.
      await store.write([hr[3], ...spo2, ...theirs])
      await store.write(hr.slice(0, 3))
      const latest = await store.latest([patient, other])
      const byKey = (xs: StoredObservation[]) => xs.map((o) => o.key).sort()
      expect(byKey(latest)).toEqual(byKey([hr[3], spo2[1], theirs[1]]))
      expect(latest.find((o) => o.key === hr[3].key)).toEqual(hr[3])
      expect(await store.latest([])).toEqual([])
    })

    it('answers undefined for an unknown id and an empty page for no matches', async () => {
      expect(await store.get('0'.repeat(32))).toBeUndefined()
      expect(await store.search({ patientIds: ['nobody'], sort: 'desc', limit: 10 })).toEqual({ items: [] })
    })
  })
}
