import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { ERRORS } from './errors.ts'

describe('error registry', () => {
  it('documents every code in docs/errors.md and nothing else', () => {
    const doc = fs.readFileSync(path.join(import.meta.dirname, '..', 'docs', 'errors.md'), 'utf8')
    const documented = [...doc.matchAll(/`(VW_ERR_[A-Z_]+)`/g)].map((m) => m[1])
    expect(new Set(documented)).toEqual(new Set(Object.keys(ERRORS)))
  })
})
