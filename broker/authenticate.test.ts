import { execFileSync } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { commonName } from './authenticate.ts'

// commonName reads the subject as Node prints it for a real certificate (made here with the openssl CLI),
// so the cases below are the strings the broker sees, including multi-valued RDNs and escaped values.

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vw-cn-'))
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }))

function subjectOf(subj: string, multivalue = false): string {
  const out = path.join(dir, 'c.crt')
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      path.join(dir, 'c.key'),
      '-out',
      out,
      '-days',
      '1',
      '-subj',
      subj,
      ...(multivalue ? ['-multivalue-rdn'] : []),
    ],
    { stdio: 'pipe' },
  )
  return new X509Certificate(fs.readFileSync(out)).subject
}

describe('certificate CN', () => {
  it.each([
    ['/CN=dev-1', false, 'dev-1'],
    ['/O=Hospital/OU=Ward 3/CN=dev-1.a', false, 'dev-1.a'],
    ['/O=Hospital/CN=dev-1+OU=x', true, 'dev-1'],
    ['/O=Hospital', false, undefined],
    ['/CN=dev-1/CN=dev-2', false, undefined],
    ['/CN=dev-1/OU=x+CN=dev-2', true, undefined],
    ['/CN=dev-1\\+CN=dev-2', false, 'dev-1\\+CN=dev-2'],
    ['/CN=dev-1,CN=dev-2', false, 'dev-1\\,CN=dev-2'],
  ])('%s -> %s', (subj, multivalue, cn) => expect(commonName(subjectOf(subj, multivalue))).toBe(cn))
})
