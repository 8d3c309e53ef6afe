import { VitalwireError } from './errors.ts'

// A port that cannot be listened on is a configuration problem: say which one, and what to change,
// instead of a stack trace.

const WHY: Record<string, string> = {
  EADDRINUSE: 'the port is in use by another program (another Vitalwire?)',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'this machine has no such address',
}

/** Run `start` (a listen); a refused address becomes VW_ERR_CONFIG_INVALID naming `setting`. */
export async function listening<T>(
  what: string,
  setting: string,
  host: string,
  port: number,
  start: () => Promise<T>,
): Promise<T> {
  try {
    return await start()
  } catch (e) {
    const why = WHY[(e as NodeJS.ErrnoException).code ?? '']
    if (!why) throw e
    throw new VitalwireError(
      'VW_ERR_CONFIG_INVALID',
      `${what} cannot listen on ${host}:${port}: ${why}; stop the other program or set ${setting}`,
      { cause: e },
    )
  }
}
