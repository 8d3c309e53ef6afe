import fs from 'node:fs'
import path from 'node:path'
import type { PayloadMapping } from '../decode.ts'
import { compileMapping } from './interpret.ts'
import { type MappingDefinition, mappingSchema } from './mapping-schema.ts'

// The shipped vendor mappings (ingest/mappings/vendors/*.json). A device's `type` in the registry is
// the id of its mapping; `generic` means canonical readings and needs no mapping.

export const GENERIC_TYPE = 'generic'
export const VENDOR_DIR = path.join(import.meta.dirname, 'vendors')

export interface LoadedMapping {
  definition: MappingDefinition
  map: PayloadMapping
}

/** Parse, validate and compile one mapping document; the message names the file and every problem. */
export function parseMapping(json: string, source: string): LoadedMapping {
  let raw: unknown
  try {
    raw = JSON.parse(json)
  } catch (e) {
    throw new Error(`device mapping ${source} is not valid JSON: ${(e as Error).message}`)
  }
  const parsed = mappingSchema.safeParse(raw)
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
    throw new Error(`device mapping ${source} is invalid:\n${problems.join('\n')}`)
  }
  return { definition: parsed.data, map: compileMapping(parsed.data) }
}

export function loadMappings(dir: string = VENDOR_DIR): ReadonlyMap<string, LoadedMapping> {
  const out = new Map<string, LoadedMapping>()
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    const m = parseMapping(fs.readFileSync(path.join(dir, file), 'utf8'), file)
    if (m.definition.id !== path.basename(file, '.json'))
      throw new Error(`device mapping ${file} must be named after its id ${m.definition.id}`)
    out.set(m.definition.id, m)
  }
  return out
}

let shipped: ReadonlyMap<string, LoadedMapping> | undefined

/** The shipped mappings, loaded and compiled once. */
export function shippedMappings(): ReadonlyMap<string, LoadedMapping> {
  shipped ??= loadMappings()
  return shipped
}

/** Every device type `devices add --type` accepts. */
export function knownDeviceTypes(): string[] {
  return [GENERIC_TYPE, ...shippedMappings().keys()]
}

/** For createIngest: mapping id -> mapping (undefined for unknown ids; generic needs none). */
export function mappingFor(type: string): PayloadMapping | undefined {
  return shippedMappings().get(type)?.map
}
