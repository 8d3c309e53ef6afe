import { execFileSync, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { runE2e } from './e2e.ts'

// `npm run bench`: the end-to-end suite with its DIY baselines side by side, then every other bench
// script that exists (each writes its own bench/results/<name>.json), then the figures into
// docs/benchmarks.md. Numbers depend on the machine: each result records it.

const ROOT = path.resolve(import.meta.dirname, '..')
const RESULTS = path.join(ROOT, 'bench', 'results')
const OTHERS = ['broker', 'ingest', 'alerts', 'api', 'influx-forward', 'web']

function args() {
  try {
    return parseArgs({
      options: {
        duration: { type: 'string', default: '10' },
        devices: { type: 'string', default: '50' },
        window: { type: 'string', default: '8' },
        only: { type: 'string' },
        quick: { type: 'boolean', default: false },
      },
    }).values
  } catch (e) {
    process.stderr.write(
      `bench: ${(e as Error).message}\n(options: --only e2e|${OTHERS.join('|')}, --quick, --duration S, --devices N, --window W)\n`,
    )
    process.exit(2)
  }
}
const values = args()

export function machine() {
  const cpus = os.cpus()
  return {
    host: os.hostname(),
    cpu: `${cpus.length} x ${cpus[0]?.model ?? 'unknown'}`,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100),
    uptime: execFileSync('uptime', { encoding: 'utf8' }).trim(),
    at: new Date().toISOString(),
  }
}

function write(name: string, body: object) {
  fs.mkdirSync(RESULTS, { recursive: true })
  const file = path.join(RESULTS, `${name}.json`)
  fs.writeFileSync(file, `${JSON.stringify(body, null, 2)}\n`)
  return file
}

async function main() {
  const m = machine()
  process.stdout.write(`machine: ${m.cpu}, ${m.memoryGiB} GiB, ${m.os}, Node ${m.node}\nload: ${m.uptime}\n`)
  if (!values.only || values.only === 'e2e') {
    const quick = values.quick
    const result = await runE2e(
      {
        durationS: quick ? 3 : Number(values.duration),
        devices: quick ? 10 : Number(values.devices),
        window: Number(values.window),
        latencyRate: quick ? 200 : 1000,
        alerts: quick ? 5 : 30,
        idleDevices: quick ? 100 : 1000,
      },
      (line) => process.stdout.write(`${line}\n`),
    )
    const file = write('e2e', {
      name: 'e2e',
      command: `npm run bench -- ${process.argv.slice(2).join(' ')}`.trim(),
      machine: m,
      loadAfter: os.loadavg(),
      ...result,
    })
    process.stdout.write(
      `ratios: Vitalwire / DIY (b) = ${result.ratios.vitalwireOverDiy} (target >= 3), Vitalwire / relay (a) = ${result.ratios.vitalwireOverRelay} (target >= 1)\nwrote ${path.relative(ROOT, file)}\n`,
    )
  }
  for (const name of OTHERS) {
    const script = path.join(ROOT, 'bench', `${name}.ts`)
    if ((values.only && values.only !== name) || !fs.existsSync(script)) continue
    process.stdout.write(`\n== bench/${name}.ts\n`)
    const r = spawnSync(process.execPath, [script], { cwd: ROOT, stdio: 'inherit' })
    if (r.status !== 0) process.stdout.write(`bench/${name}.ts exited with ${r.status}\n`)
  }
  updateDocs()
}

/** Replace the generated block of docs/benchmarks.md with a table of every results file. */
/** The three load averages at the end of an `uptime` line. */
function loadOf(uptime?: unknown): string | undefined {
  if (typeof uptime !== 'string') return undefined
  return uptime.match(/load average: (.*)$/)?.[1]?.replaceAll(',', '')
}

function updateDocs() {
  const doc = path.join(ROOT, 'docs', 'benchmarks.md')
  if (!fs.existsSync(doc) || !fs.existsSync(RESULTS)) return
  const rows = fs
    .readdirSync(RESULTS)
    .filter((f) => f.endsWith('.json'))
    .map((f) => {
      const r = JSON.parse(fs.readFileSync(path.join(RESULTS, f), 'utf8'))
      // Each bench script records its machine in its own shape; take what is there.
      const m = r.machine ?? {}
      const at = m.at ?? r.at ?? r.date ?? ''
      const cpu = m.cpu ?? `${m.cpus} x ${m.cpuModel}`
      const load =
        m.loadAverage ??
        m.loadavgBefore ??
        m.loadAvgBefore ??
        r.loadavg ??
        r.loadBefore ??
        loadOf(m.uptimeBefore)
      const loadText = Array.isArray(load) ? load.join(' ') : (loadOf(load) ?? load ?? '?')
      const where = `${cpu}, Node ${m.node ?? r.node}, load ${loadText}`
      return `| \`bench/results/${f}\` | ${at} | ${where} | \`${r.command ?? `node bench/${f.replace('.json', '.ts')}`}\` |`
    })
  const block = [
    '<!-- results:start -->',
    '| results file | measured at | machine | command |',
    '|---|---|---|---|',
    ...rows,
    '<!-- results:end -->',
  ].join('\n')
  const text = fs.readFileSync(doc, 'utf8')
  fs.writeFileSync(doc, text.replace(/<!-- results:start -->[\s\S]*<!-- results:end -->/, block))
  // Keep the page as the formatter wants it (aligned table), so `biome check` stays clean.
  const biome = path.join(ROOT, 'node_modules', '.bin', 'biome')
  if (fs.existsSync(biome)) spawnSync(biome, ['format', '--write', doc], { cwd: ROOT, stdio: 'ignore' })
}

if (import.meta.main) await main()
