import { describe, expect, it } from 'vitest'
import { docsCsp } from './docs.ts'

describe('docsCsp', () => {
  const plugin =
    "default-src 'self'; base-uri 'self'; font-src 'self' https: data:; frame-ancestors 'self'; img-src 'self' data: validator.swagger.io; object-src 'none'; script-src 'self' 'sha256-abc'; script-src-attr 'none'; style-src 'self' https: 'sha256-def'; upgrade-insecure-requests;"
  it('keeps scripts to self and hashes, drops other origins, forbids framing', () => {
    const csp = docsCsp(plugin, false)
    expect(csp).toContain("script-src 'self' 'sha256-abc'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).toContain("base-uri 'none'")
    expect(csp).not.toMatch(/https:|validator\.swagger\.io|upgrade-insecure-requests/)
  })
  it('keeps upgrade-insecure-requests when served over HTTPS', () => {
    expect(docsCsp(plugin, true)).toContain('upgrade-insecure-requests')
  })
})
