import { describe, expect, it } from 'vitest'
import {
  freezeList,
  liveSlots,
  pausedOrderLabel,
  pendingAlertsLabel,
  rankChanges,
  type Slot,
} from './freeze.ts'

type Item = { id: string; v: number }
const key = (t: Item) => t.id
const items = (...ids: string[]) => ids.map((id) => ({ id, v: 0 }))
const keys = (slots: Slot<Item>[]) => slots.map((s) => `${s.key}${s.gone ? '(gone)' : ''}`)

describe('freezeList', () => {
  it.each([
    ['a new item on top waits', ['b', 'c'], ['a', 'b', 'c'], ['b', 'c'], ['a']],
    ['a reorder waits', ['a', 'b', 'c'], ['c', 'a', 'b'], ['a', 'b', 'c'], []],
    ['an item that left keeps its slot, gone', ['a', 'b', 'c'], ['a', 'c'], ['a', 'b(gone)', 'c'], []],
    ['all at once', ['a', 'b'], ['c', 'b', 'd'], ['a(gone)', 'b'], ['c', 'd']],
    ['an empty feed stays empty', [], ['a'], [], ['a']],
  ])('%s', (_name, shown, next, slots, pending) => {
    const f = freezeList(liveSlots(items(...shown), key), items(...next), key)
    expect(keys(f.slots)).toEqual(slots)
    expect(f.pending.map(key)).toEqual(pending)
  })

  it('shows the newest value of an item in its old slot (updates apply in place)', () => {
    const f = freezeList(liveSlots([{ id: 'a', v: 1 }], key), [{ id: 'a', v: 2 }], key)
    expect(f.slots).toEqual([{ key: 'a', item: { id: 'a', v: 2 }, gone: false }])
  })

  it('never drops an update: under random streams, frozen or not, nothing moves while frozen and the list is the unfrozen one after', () => {
    let seed = 7
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31
      return seed % n
    }
    for (let round = 0; round < 200; round++) {
      let next: Item[] = []
      let shown: Slot<Item>[] = []
      let frozen = false
      for (let step = 0; step < 40; step++) {
        // A random change: a new item at a random place, an update, a removal, or a reorder.
        const op = rnd(4)
        if (op === 0 || next.length === 0)
          next.splice(rnd(next.length + 1), 0, { id: `k${round}-${step}`, v: step })
        else if (op === 1) next[rnd(next.length)] = { ...next[rnd(next.length)], v: step }
        else if (op === 2) next.splice(rnd(next.length), 1)
        else next = [...next].sort(() => rnd(3) - 1)
        next = [...new Map(next.map((t) => [t.id, t])).values()]
        if (rnd(5) === 0) frozen = !frozen
        if (!frozen) {
          shown = liveSlots(next, key)
          continue
        }
        const before = shown.map((s) => s.key)
        const f = freezeList(shown, next, key)
        shown = f.slots
        expect(shown.map((s) => s.key)).toEqual(before)
        const live = shown.filter((s) => !s.gone).map((s) => s.item)
        // Every item of `next` is shown with its newest value or waits; none twice, none lost.
        expect([...live, ...f.pending].sort((a, b) => (a.id < b.id ? -1 : 1))).toEqual(
          [...next].sort((a, b) => (a.id < b.id ? -1 : 1)),
        )
      }
      expect(liveSlots(next, key)).toEqual(next.map((item) => ({ key: item.id, item, gone: false })))
    }
  })
})

describe('rankChanges', () => {
  it.each([
    ['same order', ['a', 'b', 'c'], ['a', 'b', 'c'], 0],
    ['one rising past all others is one', ['a', 'b', 'c', 'd'], ['d', 'a', 'b', 'c'], 1],
    ['two swapped pairs', ['a', 'b', 'c', 'd'], ['b', 'a', 'd', 'c'], 2],
    ['a new patient', ['a', 'b'], ['a', 'n', 'b'], 1],
    ['a patient no longer listed', ['a', 'b', 'c'], ['a', 'c'], 1],
  ])('%s', (_name, displayed, order, n) => {
    expect(rankChanges(displayed, order)).toBe(n)
  })
})

describe('labels', () => {
  it.each([
    [0, 0, ''],
    [1, 0, '1 new alert — show'],
    [3, 1, '3 new alerts (1 critical) — show'],
  ])('%i new, %i critical: "%s"', (n, c, text) => expect(pendingAlertsLabel(n, c)).toBe(text))
  it('says how many patients changed rank', () => {
    expect(pausedOrderLabel(0)).toBe('')
    expect(pausedOrderLabel(1)).toBe('Order paused while you work — 1 patient changed rank.')
    expect(pausedOrderLabel(4)).toBe('Order paused while you work — 4 patients changed rank.')
  })
})
