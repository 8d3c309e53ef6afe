import { describe, expect, it } from 'vitest'
import { EventBus } from '../shared/events.ts'
import type { StoredObservation } from '../shared/fhir.ts'
import { createLogger } from '../shared/logger.ts'
import { createMetrics } from '../shared/metrics.ts'
import type { DeadLetter, Journal } from '../storage/ports.ts'
import { createIngest } from './index.ts'

// accept() is what the broker awaits before the PUBACK. These tests hold the journal's commit open to
// prove the order: no answer (so no PUBACK) before the commit, and a failed commit is an error (so the
// broker closes the connection without PUBACK and the device retransmits).

type Entry = { accepted: StoredObservation[]; deadLetters: DeadLetter[] }

function heldJournal() {
  const pending: { entry: Entry; settle: (ok: boolean) => void }[] = []
  const journal: Journal = {
    commit: (entry) =>
      new Promise((resolve, reject) => {
        pending.push({
          entry,
          settle: (ok) =>
            ok ? resolve({ fresh: entry.accepted, conflicts: [] }) : reject(new Error('disk full')),
        })
      }),
    flush: async () => {},
  }
  return { journal, pending }
}

const silent = createLogger({ level: 'silent' })
const options = { maxFutureMs: 300_000, maxAgeMs: 30 * 86_400_000 }
const payload = Buffer.from(JSON.stringify({ id: 'r1', type: 'heart-rate', value: 70 }))
const device = { patientId: 'p1', type: 'generic' }
const tick = () => new Promise((r) => setImmediate(r))

describe('accept (durable acceptance)', () => {
  it('answers only after the commit, then emits the fresh observations', async () => {
    const { journal, pending } = heldJournal()
    const events = new EventBus()
    const seen: string[] = []
    events.on('observations', (list) => seen.push(...list.map((o) => o.key)))
    const ingest = createIngest({ journal, events, log: silent, metrics: createMetrics() }, options)
    let answered = false
    const result = ingest.accept('d1', device, payload).then((r) => {
      answered = true
      return r
    })
    for (let i = 0; i < 5; i++) await tick()
    expect(answered).toBe(false)
    expect(seen).toEqual([])
    pending[0].settle(true)
    expect(await result).toMatchObject({ accepted: 1, duplicates: 0, rejected: [] })
    expect(seen).toEqual(['d1:r1'])
  })

  it('fails when the commit fails, so no PUBACK is sent and nothing is announced', async () => {
    const { journal, pending } = heldJournal()
    const events = new EventBus()
    let emitted = 0
    events.on('observations', () => emitted++)
    const ingest = createIngest({ journal, events, log: silent, metrics: createMetrics() }, options)
    const result = ingest.accept('d1', device, payload)
    await tick()
    pending[0].settle(false)
    await expect(result).rejects.toThrow('disk full')
    expect(emitted).toBe(0)
  })

  it('commits a rejected message as one dead letter with the payload, then answers with the reason', async () => {
    const { journal, pending } = heldJournal()
    const ingest = createIngest(
      { journal, events: new EventBus(), log: silent, metrics: createMetrics() },
      options,
    )
    const bad = Buffer.from(JSON.stringify({ readings: [{ id: 'a', type: 'spo2', value: 20 }, { id: 'b' }] }))
    const result = ingest.accept('d1', device, bad)
    await tick()
    const dl = pending[0].entry.deadLetters
    expect(dl.map((d) => [d.readingId, d.code, d.payload !== null])).toEqual([
      ['a', 'VW_ERR_INGEST_IMPLAUSIBLE', true],
      ['b', 'VW_ERR_INGEST_SCHEMA', false],
    ])
    pending[0].settle(true)
    expect((await result).rejected.map((r) => r.readingId)).toEqual(['a', 'b'])
  })

  it('with durable off (bench only) answers before the commit', async () => {
    const { journal, pending } = heldJournal()
    const ingest = createIngest(
      { journal, events: new EventBus(), log: silent, metrics: createMetrics() },
      { ...options, durable: false },
    )
    expect(await ingest.accept('d1', device, payload)).toMatchObject({ accepted: 1 })
    expect(pending).toHaveLength(1)
    pending[0].settle(true)
  })
})
