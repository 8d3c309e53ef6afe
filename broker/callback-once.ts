import type { Logger } from '../shared/logger.ts'

// Aedes hooks are callbacks; our policies are async functions. `callbackOnce` adapts a policy once so
// the hook calls back exactly once, never throws into Aedes, and an unexpected failure is logged.

/** An error a policy throws on purpose (refusal); it is not logged as a failure. */
export interface Refusal extends Error {
  expected: true
  returnCode?: number
}

export function denied(message: string, returnCode?: number): Refusal {
  return Object.assign(new Error(message), { expected: true as const, returnCode })
}

type Callback = (err: Error | null, ...r: unknown[]) => void

export function callbackOnce<A extends unknown[]>(fn: (...a: A) => Promise<unknown>, log: Logger) {
  return (...args: [...A, Callback]) => {
    const cb = args.pop() as Callback
    let called = false
    const once = (err: Error | null, r?: unknown) => {
      if (called) return
      called = true
      try {
        if (err) cb(err)
        else if (r === undefined) cb(null)
        else cb(null, r)
      } catch (e) {
        // Aedes' own callback failed: log it rather than turn it into an unhandled rejection.
        log.error({ err: e }, 'broker hook callback threw')
      }
    }
    let pending: Promise<unknown>
    try {
      pending = fn(...(args as unknown as A))
    } catch (e) {
      pending = Promise.reject(e)
    }
    pending.then(
      (r) => once(null, r),
      (e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e))
        if (!(err as Partial<Refusal>).expected) log.error({ err }, 'broker hook failed')
        once(err)
      },
    )
  }
}
