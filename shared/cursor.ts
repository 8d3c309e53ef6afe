import { VitalwireError } from './errors.ts'

// Keyset paging cursors: a position (a time and an id) as an opaque string. One that was not issued here
// (truncated, edited) is an error: read as "no cursor" it would restart from page 1, and a client paging
// on would loop or see duplicates.

/** The cursor of the position (ms, id). */
export function encodeCursor(ms: number, id: string): string {
  return Buffer.from(JSON.stringify([ms, id])).toString('base64url')
}

/** The position of a cursor `encodeCursor` made; any other is a 400. */
export function decodeCursor(cursor: string): { ms: number; id: string } {
  try {
    const [ms, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'))
    if (Number.isSafeInteger(ms) && typeof id === 'string') return { ms, id }
  } catch {}
  throw notACursor()
}

export const notACursor = () =>
  new VitalwireError('VW_ERR_VALIDATION', 'after: not a cursor from a previous page')
