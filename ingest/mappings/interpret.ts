import type { PayloadMapping } from '../decode.ts'
import { MAX_BATCH } from '../reading-schema.ts'
import { type CompiledPath, compilePath, readArray, readPath } from './json-path.ts'
import type { FieldSpec, MappingDefinition, Template } from './mapping-schema.ts'

// The mapping interpreter: a validated mapping definition -> a PayloadMapping (vendor document ->
// canonical reading objects). Paths are compiled once at load; per message the work is bounded by
// templates x items (at most MAX_BATCH readings) x fields x MAX_SEGMENTS. It never throws on input.

type Getter = (doc: unknown, item: unknown) => unknown

/** A field's value is one its spec declares as "no measurement" (`missing`). */
const MISSING = Symbol('missing')
/** Fields without which there is no reading: a declared "no measurement" there skips the reading. */
const MEASURED = new Set(['value', 'systolic', 'diastolic'])

function mustCompile(source: string): CompiledPath {
  const c = compilePath(source)
  if (!c.ok) throw new Error(c.message)
  return c.path
}

function isPath(s: string) {
  return s.startsWith('$') || s.startsWith('@')
}

function joinPart(v: unknown): string | undefined {
  if (typeof v === 'string') return v
  // Any finite number, fractions too (a time in epoch seconds with a fraction is one reading's id).
  if (typeof v === 'number' && Number.isFinite(v)) return String(v)
  return undefined
}

function compileField(spec: FieldSpec): Getter {
  if (typeof spec === 'string') {
    const p = mustCompile(spec)
    return (doc, item) => readPath(p, doc, item)
  }
  if ('const' in spec) {
    const value = spec.const
    return () => value
  }
  if ('join' in spec) {
    const parts = spec.join.map((s): Getter => {
      if (!isPath(s)) return () => s
      const p = mustCompile(s)
      return (doc, item) => readPath(p, doc, item)
    })
    const sep = spec.sep
    return (doc, item) => {
      const out: string[] = []
      for (const part of parts) {
        const s = joinPart(part(doc, item))
        // A missing part leaves the id out, so the reading is rejected for having no id.
        if (s === undefined) return undefined
        out.push(s)
      }
      return out.join(sep)
    }
  }
  const p = mustCompile(spec.path)
  const { map, scale } = spec
  const missing = spec.missing && new Set<unknown>(spec.missing)
  return (doc, item) => {
    let v = readPath(p, doc, item)
    if (missing?.has(v)) return MISSING
    // A value the lookup does not know passes on as text, so validation names it ("unit "7" is not
    // accepted") instead of a type error.
    if (map && (typeof v === 'string' || typeof v === 'number'))
      v = Object.hasOwn(map, String(v)) ? map[String(v)] : String(v)
    if (scale !== undefined && typeof v === 'number') v *= scale
    return v
  }
}

const TIME: Record<Template['timestamp'], (v: unknown) => unknown> = {
  iso: (v) => v,
  'epoch-ms': (v) => v,
  // Epoch seconds (fractions allowed) -> the canonical epoch milliseconds.
  'epoch-s': (v) => (typeof v === 'number' && Number.isFinite(v) ? Math.round(v * 1000) : v),
}

function compileTemplate(t: Template) {
  const match = t.match ? { path: mustCompile(t.match.path), equals: t.match.equals } : undefined
  const forEach = t.forEach ? mustCompile(t.forEach) : undefined
  const fields = Object.entries(t.fields).map(([name, spec]) => [name, compileField(spec!)] as const)
  const time = TIME[t.timestamp]
  return {
    matches(doc: unknown): boolean {
      if (!match) return true
      const v = readPath(match.path, doc, doc)
      return match.equals === undefined ? v !== undefined && v !== null : v === match.equals
    },
    items(doc: unknown): unknown[] | undefined {
      return forEach ? readArray(forEach, doc, doc) : [doc]
    },
    /** The canonical reading, or undefined when the device declared that it measured nothing. */
    reading(doc: unknown, item: unknown): Record<string, unknown> | undefined {
      const out: Record<string, unknown> = { type: t.type }
      for (const [name, get] of fields) {
        let v = get(doc, item)
        if (v === MISSING) {
          if (MEASURED.has(name)) return undefined
          continue
        }
        if (v === undefined) continue
        if (name === 'ts') v = time(v)
        // Vendors number their readings; the canonical id is a string.
        else if (name === 'id' && typeof v === 'number' && Number.isSafeInteger(v)) v = String(v)
        out[name] = v
      }
      return out
    },
  }
}

/** Compile a validated definition. Throws at load time (never per message) if a path is invalid. */
export function compileMapping(def: MappingDefinition): PayloadMapping {
  const templates = def.templates.map(compileTemplate)
  const ignored = (def.ignore ?? []).map((m) => ({ path: mustCompile(m.path), equals: m.equals }))
  return (doc) => {
    for (const m of ignored) {
      const v = readPath(m.path, doc, doc)
      if (m.equals === undefined ? v !== undefined && v !== null : v === m.equals)
        return { ok: true, readings: [] }
    }
    const readings: unknown[] = []
    let matched = 0
    let unmeasured = 0
    for (const t of templates) {
      if (!t.matches(doc)) continue
      matched++
      const items = t.items(doc)
      if (!items) continue
      if (readings.length + items.length > MAX_BATCH) {
        return {
          ok: false,
          message: `mapping ${def.id} yields more than ${MAX_BATCH} readings from one message`,
        }
      }
      for (const item of items) {
        const r = t.reading(doc, item)
        if (r) readings.push(r)
        else unmeasured++
      }
    }
    if (matched === 0) return { ok: false, message: `no template of mapping ${def.id} matches the payload` }
    // Samples the device itself marked as "no measurement": nothing to store, nothing wrong.
    if (readings.length === 0 && unmeasured === 0)
      return { ok: false, message: `mapping ${def.id} found no readings in the payload` }
    return { ok: true, readings }
  }
}
