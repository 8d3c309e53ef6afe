// A small, bounded subset of JSONPath for device mappings (in the spirit of Azure MedTech's device
// templates): `$` is the document, `@` the current item of `forEach`; segments are `.name`, `['name']`,
// `[index]`, and `[*]` only as the last segment of a `forEach`. No filters, no recursion, no eval: a
// path costs at most MAX_SEGMENTS property reads, and only own properties are read, so `__proto__` or
// `constructor` in a payload is plain data, never the prototype.

export const MAX_SEGMENTS = 12

export interface CompiledPath {
  source: string
  root: '$' | '@'
  segments: (string | number)[]
  wildcard: boolean
}

const SEGMENT = /^(?:\.([A-Za-z_][A-Za-z0-9_]*)|\['([^'\\]{1,64})'\]|\[(\d{1,4})\]|(\[\*\]))/

export function compilePath(
  source: string,
): { ok: true; path: CompiledPath } | { ok: false; message: string } {
  const root = source[0]
  if (root !== '$' && root !== '@') return { ok: false, message: `path ${source} must start with $ or @` }
  const segments: (string | number)[] = []
  let wildcard = false
  let rest = source.slice(1)
  while (rest.length > 0) {
    if (wildcard) return { ok: false, message: `path ${source}: [*] may only be the last segment` }
    const m = SEGMENT.exec(rest)
    if (!m) return { ok: false, message: `path ${source}: cannot read ${JSON.stringify(rest)}` }
    if (m[1] !== undefined || m[2] !== undefined) segments.push(m[1] ?? m[2])
    else if (m[3] !== undefined) segments.push(Number(m[3]))
    else wildcard = true
    rest = rest.slice(m[0].length)
  }
  if (segments.length > MAX_SEGMENTS) return { ok: false, message: `path ${source} is too deep` }
  return { ok: true, path: { source, root, segments, wildcard } }
}

function step(value: unknown, key: string | number): unknown {
  if (value === null || typeof value !== 'object') return undefined
  if (typeof key === 'number') return Array.isArray(value) ? value[key] : undefined
  return Object.hasOwn(value, key) ? (value as Record<string, unknown>)[key] : undefined
}

/** The value at `path`, or undefined when any segment is missing. */
export function readPath(path: CompiledPath, doc: unknown, current: unknown): unknown {
  let value = path.root === '$' ? doc : current
  for (const key of path.segments) {
    value = step(value, key)
    if (value === undefined) return undefined
  }
  return value
}

/** The array a `forEach` path selects (its `[*]`), or undefined when it is not an array. */
export function readArray(path: CompiledPath, doc: unknown, current: unknown): unknown[] | undefined {
  const value = readPath(path, doc, current)
  return Array.isArray(value) ? value : undefined
}
