import { execFile } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { promisify } from 'node:util'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { obs } from '../../alerts/test-observation.ts'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'
import { tempDir } from '../helpers/harness.ts'

// `vitalwire rules test` as a user runs it: a real child process over a real data dir.

const run = promisify(execFile)
const CLI = path.join(import.meta.dirname, '..', '..', 'cli', 'vitalwire.ts')
const HOUR = 3_600_000

describe('vitalwire rules test', () => {
  let dir: string
  beforeEach(async () => {
    dir = tempDir()
    const s = openEmbeddedStorage({ dataDir: dir, dbPath: path.join(dir, 'vitalwire.db'), outbox: false })
    await s.registry.addPatient({ id: 'p1', name: 'P One' })
    await s.registry.addPatient({ id: 'p2', name: 'P Two' })
    const now = Date.now()
    await s.readings.write([
      obs('p1', 'heart-rate', { value: 105 }, now - 40 * 24 * HOUR), // outside --since 30d
      obs('p1', 'heart-rate', { value: 112 }, now - 3 * 24 * HOUR),
      obs('p1', 'heart-rate', { value: 125 }, now - 3 * 24 * HOUR + 60_000),
      obs('p2', 'heart-rate', { value: 80 }, now - 2 * 24 * HOUR),
      obs('p2', 'heart-rate', { value: 135 }, now - HOUR),
    ])
    s.close()
  })
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }))

  const cli = (...args: string[]) =>
    run(process.execPath, [CLI, ...args], { env: { ...process.env, VITALWIRE_DATA_DIR: dir } })

  function writeRules(rules: unknown) {
    const file = path.join(dir, 'candidate.json')
    fs.writeFileSync(file, JSON.stringify(rules))
    return file
  }

  it('reports per rule, patient and severity what a candidate set would have raised, raising none', {
    timeout: 90_000,
  }, async () => {
    const file = writeRules({
      rules: [
        {
          id: 'hr-high',
          kind: 'threshold',
          type: 'heart-rate',
          label: 'Heart rate',
          unit: '/min',
          margin: 5,
          levels: [
            { severity: 'high', any: [{ op: '>', limit: 130 }] },
            { severity: 'medium', any: [{ op: '>', limit: 110 }] },
          ],
        },
      ],
    })
    const { stdout } = await cli('rules', 'test', file, '--since', '30d', '--json')
    const report = JSON.parse(stdout)
    expect(report.readings).toBe(4)
    expect(report.byRule).toEqual({ 'hr-high': { total: 2, medium: 1, high: 1 } })
    expect(report.byPatient).toEqual({
      p1: { total: 1, rules: { 'hr-high': 1 } },
      p2: { total: 1, rules: { 'hr-high': 1 } },
    })
    expect(report.raised.find((a: any) => a.patientId === 'p1')).toMatchObject({
      count: 2,
      severity: 'medium',
    })
    // A rule file replaces the defaults: the report says which default rules would stop running.
    expect(report.defaultsNotInFile).toContain('spo2-low')
    expect(report.defaultsNotInFile).toContain('news2')
    expect(report.defaultsNotInFile).not.toContain('hr-high')
    const text = (await cli('rules', 'test', file, '--since', '30d')).stdout
    expect(text).toContain('2 alerts would have been raised (none were)')
    expect(text).toMatch(/WARNING: this file replaces the default rules, .* no longer run: spo2-low, /)
    expect(text).toMatch(/hr-high\s+2 {2}\(medium 1, high 1\)/)
    // Nothing was raised for real.
    const s = openEmbeddedStorage({ dataDir: dir, dbPath: path.join(dir, 'vitalwire.db'), outbox: false })
    expect(await s.alerts.list({ limit: 10 })).toEqual([])
    s.close()
  })

  it('prints the default rule set as a file that loads and replays as the defaults do', {
    timeout: 60_000,
  }, async () => {
    const file = path.join(dir, 'defaults.json')
    fs.writeFileSync(file, (await cli('rules', 'defaults')).stdout)
    const report = JSON.parse((await cli('rules', 'test', file, '--since', '30d', '--json')).stdout)
    expect(report.defaultsNotInFile).toEqual([])
    // The default hr-high is high above 130 only: p2's 135, not p1's 112 and 125.
    expect(report.byRule['hr-high']).toEqual({ total: 1, high: 1 })
    expect(report.byPatient.p2.rules['hr-high']).toBe(1)
    expect((await cli('rules', 'test', file, '--since', '30d')).stdout).not.toContain('WARNING')
  })

  it('rejects an invalid rule file with every problem and its path', { timeout: 60_000 }, async () => {
    const file = writeRules({ rules: [{ id: 'Bad Id', kind: 'threshold', type: 'pulse', levels: [] }] })
    const err: any = await cli('rules', 'test', file, '--since', '30d').catch((e) => e)
    expect(err.code).toBe(1)
    expect(err.stderr).toContain('candidate.json is invalid')
    expect(err.stderr).toMatch(/rules\.0\.id: lower-case letters/)
    expect(err.stderr).toMatch(/rules\.0\.type/)
    expect(err.stderr).toContain('[VW_ERR_RULES_INVALID]')
  })
})
