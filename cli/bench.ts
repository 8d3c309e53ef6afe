import { spawn } from 'node:child_process'
import path from 'node:path'
import type { Command } from 'commander'

// `vitalwire bench ...`: the benchmarks (bench/run.ts, `npm run bench`), run with this Node, their own
// options passed through. They need the development checkout (bench/ and the Debian mosquitto).

const RUN = path.resolve(import.meta.dirname, '..', 'bench', 'run.ts')

export function benchCommand(program: Command) {
  program
    .command('bench')
    .description(
      'run the benchmarks and write bench/results and docs/benchmarks.md (docs/benchmarks.md): ' +
        '[--only e2e|broker|ingest|alerts|api|influx-forward|web] [--quick] [--duration S] [--devices N] [--window W]',
    )
    .helpOption('-h, --help', 'show this help')
    .allowUnknownOption()
    .allowExcessArguments()
    .argument('[options...]', 'passed on to bench/run.ts')
    .action(async (args: string[]) => {
      const child = spawn(process.execPath, [RUN, ...args], { stdio: 'inherit' })
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
      process.exitCode = code ?? 1
    })
}
