import { describe, expect, it } from 'vitest'
import { lisMembers } from './dom.ts'

// The rows that stay put when the worklist is re-ordered: everything outside the set moves.
describe('lisMembers', () => {
  it.each([
    ['unchanged order moves nothing', [0, 1, 2, 3], [0, 1, 2, 3]],
    ['one row rising to the top moves one row', [3, 0, 1, 2], [1, 2, 3]],
    ['one row sinking to the bottom moves one row', [1, 2, 3, 0], [0, 1, 2]],
    ['new rows (-1) are never kept', [-1, 0, 1], [1, 2]],
    ['a full reversal keeps one', [3, 2, 1, 0], [3]],
  ])('%s', (_name, seq, kept) => {
    const members = lisMembers(seq)
    expect(members.size).toBe(kept.length)
    if (kept.length > 1) expect([...members].sort()).toEqual(kept)
  })
})
