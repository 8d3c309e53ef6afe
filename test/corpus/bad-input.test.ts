import { describe, expect, it } from 'vitest'
import { decode } from '../../ingest/decode.ts'
import { BAD_INPUTS } from './bad-input.ts'

// Every payload of the bad-input corpus is rejected with its code, never throws and never becomes a
// reading; the prototype of plain objects is untouched afterwards.

const limits = { nowMs: Date.parse('2026-11-27T10:00:00Z'), maxFutureMs: 300_000, maxAgeMs: 30 * 86_400_000 }

describe('bad-input corpus', () => {
  it.each(BAD_INPUTS.map((b) => [b.name, b] as const))('rejects %s', (_name, bad) => {
    const items = decode(bad.payload, limits)
    expect(items).toHaveLength(bad.rejections ?? 1)
    for (const item of items) {
      expect(item).toMatchObject({ ok: false, code: bad.code })
      if (!item.ok) expect(item.message.length).toBeLessThan(600)
    }
  })

  it('leaves Object.prototype unpolluted', () => {
    for (const bad of BAD_INPUTS) decode(bad.payload, limits)
    expect(({} as Record<string, unknown>).polluted).toBeUndefined()
    expect(({} as Record<string, unknown>).type).toBeUndefined()
  })
})
