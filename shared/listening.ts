import { VitalwireError } from './errors.ts'

// A port that cannot be listened on is a configuration problem: say which one, and what to change,
// instead of a stack trace.

const WHY: Record<string, { why: string; fix: 'host' | 'port' }> = {
  EADDRINUSE: { why: 'the port is in use by another program (another Vitalwire?)', fix: 'port' },
  EACCES: { why: 'permission denied (ports below 1024 need privileges)', fix: 'port' },
  EADDRNOTAVAIL: { why: 'this machine has no such address', fix: 'host' },
  ENOTFOUND: { why: 'no such host name', fix: 'host' },
  EAI_AGAIN: { why: 'the host name could not be resolved', fix: 'host' },
}

/**
 * Run `start` (a listen); a refused address becomes VW_ERR_CONFIG_INVALID naming the setting to change:
 * the host's for an address this machine does not have, the port's for one in use.
 */
export async function listening<T>(
  what: string,
  settings: { host: string; port: string },
  host: string,
  port: number,
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start()
  } catch (e) {
    const known = WHY[(e as NodeJS.ErrnoException).code ?? '']
    if (!known) throw e
    const fix =
      known.fix === 'port' ? `stop the other program or set ${settings.port}` : `set ${settings.host}`
    throw new VitalwireError(
      'VW_ERR_CONFIG_INVALID',
      `${what} cannot listen on ${host}:${port}: ${known.why}; ${fix}`,
      { cause: e },
    )
  }
}
