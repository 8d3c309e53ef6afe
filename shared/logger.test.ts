import { Writable } from 'node:stream'
import { describe, expect, it } from 'vitest'
import { createLogger } from './logger.ts'

describe('logger', () => {
  it('redacts secrets and patient data in the real JSON lines', () => {
    const lines: string[] = []
    const sink = new Writable({
      write(chunk, _e, cb) {
        lines.push(String(chunk))
        cb()
      },
    })
    const log = createLogger({ destination: sink })
    log.info(
      { patient: { name: 'Ada Lovelace', birthDate: '1815-12-10' }, password: 'hunter2', deviceId: 'hr-1' },
      'enrolled',
    )
    log.warn({ payload: '{"value":72}', secret: 's3cr3t' }, 'rejected')
    const text = lines.join('')
    for (const leaked of ['Ada Lovelace', '1815-12-10', 'hunter2', 's3cr3t', '"value":72'])
      expect(text).not.toContain(leaked)
    const first = JSON.parse(lines[0])
    expect(first).toMatchObject({
      msg: 'enrolled',
      deviceId: 'hr-1',
      password: '[redacted]',
      patient: { name: '[redacted]' },
    })
  })
})
