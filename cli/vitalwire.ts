#!/usr/bin/env node
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { loadConfig } from '../shared/config.ts'
import { isVitalwireError, VitalwireError } from '../shared/errors.ts'
import { accessCommands } from './access.ts'
import { adminCommands } from './admin.ts'
import { benchCommand } from './bench.ts'
import { deadLetterCommands } from './dead-letters.ts'
import { demoCommand } from './demo.ts'
import { deviceCommands } from './devices.ts'
import { rulesCommands } from './rules.ts'
import { simulateCommands } from './simulate.ts'
import { startCommand } from './start.ts'

// `vitalwire`: the one entry point for people and scripts. Every command that prints something a
// script needs accepts --json and then prints exactly one JSON object on stdout.

export function buildProgram(): Command {
  const program = new Command('vitalwire')
    .description(
      'Vitalwire: remote patient monitoring ingestion (TLS MQTT -> FHIR Observations -> alerts -> dashboard)',
    )
    .version('0.1.0')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ outputError: (s, write) => write(s) })
    .exitOverride()
  startCommand(program)
  adminCommands(program)
  deviceCommands(program)
  accessCommands(program)
  simulateCommands(program)
  demoCommand(program)
  rulesCommands(program)
  deadLetterCommands(program)
  benchCommand(program)
  return program
}

export function parseList(value: string): string[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
  if (items.length === 0) throw new InvalidArgumentError('expected a comma-separated list')
  return items
}

export function configFromEnv() {
  return loadConfig(process.env)
}

export { Option }

async function main(argv: string[]) {
  // Everything Vitalwire creates (database, keys, certificates) is owner-only.
  process.umask(0o077)
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
  } catch (e) {
    if (e instanceof CommanderError) {
      // Help and version are not errors.
      process.exitCode = e.exitCode === 0 ? 0 : 2
      return
    }
    if (isVitalwireError(e)) {
      process.stderr.write(`vitalwire: ${e.message} [${e.code}]\n`)
      process.exitCode = e.code === 'VW_ERR_CONFIG_INVALID' || e.code === 'VW_ERR_CLI_ARGUMENT' ? 2 : 1
      return
    }
    process.stderr.write(`vitalwire: ${(e as Error).stack ?? e}\n`)
    process.exitCode = 1
  }
}

if (import.meta.main) await main(process.argv)

export { VitalwireError }
