import fs from 'node:fs'
import { SourceMap } from 'node:module'
import path from 'node:path'

export interface BundleMap {
  /** A character position in the bundle -> `file.ts:line function`, or undefined when unmapped. */
  original(charPos: number): string | undefined
  lineColToPos(line: number, col: number): number
}

// Minified positions -> TypeScript source lines, through the bundle's own source map. Read after the
// bundle is built, never at import.
export function loadBundleMap(dist: string): BundleMap {
  const sourceMap = new SourceMap(JSON.parse(fs.readFileSync(path.join(dist, 'app.js.map'), 'utf8')))
  const bundleLines = fs.readFileSync(path.join(dist, 'app.js'), 'utf8').split('\n')
  function original(charPos: number): string | undefined {
    if (charPos < 0) return undefined
    let line = 0
    while (line < bundleLines.length - 1 && charPos > bundleLines[line].length)
      charPos -= bundleLines[line++].length + 1
    const e = sourceMap.findEntry(line, charPos) as any
    if (!e?.originalSource) return undefined
    const fn = e.name ? ` ${e.name}` : ''
    const file = e.originalSource.startsWith('file:')
      ? new URL(e.originalSource).pathname
      : path.resolve(dist, e.originalSource)
    return `${path.relative(process.cwd(), file)}:${e.originalLine + 1}${fn}`
  }
  function lineColToPos(line: number, col: number): number {
    let pos = col
    for (let i = 0; i < line; i++) pos += bundleLines[i].length + 1
    return pos
  }
  return { original, lineColToPos }
}

/** PROFILE=1: the page's JavaScript functions with the most self time, mapped to the TypeScript source. */
export function topFunctions(profile: any, bundle: BundleMap) {
  const self = new Map<string, number>()
  const dt = (profile.endTime - profile.startTime) / 1000 / profile.samples.length
  const byId = new Map<number, any>(profile.nodes.map((n: any) => [n.id, n]))
  for (const id of profile.samples) {
    const f = byId.get(id).callFrame
    const where = f.url.endsWith('/app.js')
      ? (bundle.original(bundle.lineColToPos(f.lineNumber, f.columnNumber)) ?? f.functionName)
      : `${f.functionName || '(anonymous)'} ${f.url ? path.basename(f.url) : ''}`.trim()
    self.set(where, (self.get(where) ?? 0) + dt)
  }
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([fn, ms]) => `${Math.round(ms)} ms ${fn}`)
}
