import { describe, expect, it } from 'vitest'
import { createLogger } from '../shared/logger.ts'
import { callbackOnce, denied } from './callback-once.ts'

const log = createLogger({ level: 'silent' })

function call(fn: () => Promise<unknown>, cbThrows = false) {
  return new Promise<unknown[][]>((resolve) => {
    const calls: unknown[][] = []
    callbackOnce(
      fn,
      log,
    )((...a: unknown[]) => {
      calls.push(a)
      setImmediate(() => resolve(calls))
      if (cbThrows) throw new Error('aedes callback failed')
    })
  })
}

describe('callbackOnce', () => {
  it('passes a result, no result, a refusal and a synchronous throw, each exactly once', async () => {
    expect(await call(async () => true)).toEqual([[null, true]])
    expect(await call(async () => undefined)).toEqual([[null]])
    const [[err]] = (await call(async () => {
      throw denied('no', 5)
    })) as [[Error & { returnCode: number }]]
    expect(err.returnCode).toBe(5)
    const sync = (() => {
      throw new Error('sync')
    }) as () => Promise<unknown>
    expect(((await call(sync))[0][0] as Error).message).toBe('sync')
  })

  it('survives a callback that throws', async () => {
    expect(await call(async () => true, true)).toHaveLength(1)
  })
})
