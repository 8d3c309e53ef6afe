import { randomUUID } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openEmbeddedStorage } from '../../storage/sqlite/index.ts'
import { type Harness, startHarness, tempDir } from '../helpers/harness.ts'
import { type Influxd, startInfluxd, waitFor } from '../helpers/influxd.ts'
import { findBinary } from '../helpers/requirements.ts'

// A copied database file alone reveals no identity: names and birth dates are AES-256-GCM sealed
// under a key that is not in the file. InfluxDB receives pseudonymous ids only. Files are owner-only.

const NAME = 'Ada Lovelace'
const BIRTH = '1815-12-10'

function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .flatMap((e) => (e.isFile() ? [path.join(e.parentPath, e.name)] : []))
}

const revealsIdentity = (bytes: Buffer) =>
  [NAME, 'Lovelace', BIRTH].some(
    (s) => bytes.includes(Buffer.from(s)) || bytes.includes(Buffer.from(s, 'utf16le')),
  )

describe('protection at rest', () => {
  let h: Harness
  let influxd: Influxd | undefined
  const database = `rest_${randomUUID().slice(0, 8)}`
  beforeAll(async () => {
    // With influxd available the readings also go there, so its files are checked too.
    if (findBinary('influxd')) {
      influxd = await startInfluxd()
      await influxd.query(`CREATE DATABASE "${database}"`)
    }
    h = await startHarness({ env: influxd ? { INFLUX_URL: influxd.url, INFLUX_DATABASE: database } : {} })
    const s = openEmbeddedStorage({
      dataDir: h.dataDir,
      dbPath: path.join(h.dataDir, 'vitalwire.db'),
      outbox: !!influxd,
    })
    await s.registry.addPatient({ id: 'p-7f3a', name: NAME, birthDate: BIRTH })
    s.close()
    const device = await h.connectDevice('bp-1', await h.enrollDevice('bp-1', 'p-7f3a'))
    await device.publishAsync(
      'rpm/v1/devices/bp-1/readings',
      JSON.stringify({ id: 'r1', type: 'blood-pressure', systolic: 150, diastolic: 95, ts: Date.now() }),
      { qos: 1 },
    )
  })
  afterAll(async () => {
    await h?.close()
    await influxd?.close()
  })

  it('creates the data dir and every file in it owner-only', () => {
    expect(fs.statSync(h.dataDir).mode & 0o777).toBe(0o700)
    const secrets = filesUnder(h.dataDir).filter((f) => !f.endsWith('.crt'))
    expect(secrets.map((f) => path.basename(f))).toEqual(expect.arrayContaining(['vitalwire.db', 'data.key']))
    for (const f of secrets)
      expect({ f, mode: (fs.statSync(f).mode & 0o777).toString(8) }).toEqual({ f, mode: '600' })
  })

  it('leaves no patient name or birth date in the raw bytes of the database, its WAL or InfluxDB', async () => {
    for (const f of filesUnder(h.dataDir))
      expect({ f, reveals: revealsIdentity(fs.readFileSync(f)) }).toEqual({ f, reveals: false })
    if (influxd) {
      const i = influxd
      await waitFor(
        async () => (await i.query('SELECT COUNT("key") FROM "blood-pressure"', database)).results[0].series,
        10_000,
        'forwarded',
      )
      // Flush the cache to TSM files on stop, then look at every byte influxd keeps.
      await i.stop()
      for (const f of filesUnder(i.dataDir))
        expect({ f, reveals: revealsIdentity(fs.readFileSync(f)) }).toEqual({ f, reveals: false })
      await i.start()
    }
  })

  it('cannot read identities from a copied database file without the data key', async () => {
    await h.running.close()
    const copy = tempDir('vitalwire-copy-')
    try {
      fs.copyFileSync(path.join(h.dataDir, 'vitalwire.db'), path.join(copy, 'vitalwire.db'))
      expect(revealsIdentity(fs.readFileSync(path.join(copy, 'vitalwire.db')))).toBe(false)
      // Without the key the sealed fields do not open: the store refuses to open at all.
      expect(() =>
        openEmbeddedStorage({ dataDir: copy, dbPath: path.join(copy, 'vitalwire.db'), outbox: false }),
      ).toThrow(expect.objectContaining({ code: 'VW_ERR_CONFIG_INVALID' }))
    } finally {
      fs.rmSync(copy, { recursive: true, force: true })
    }
  })
})
