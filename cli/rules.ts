import { type Command, InvalidArgumentError } from 'commander'
import { DEFAULT_RULES } from '../alerts/default-rules.ts'
import type { ReplayReport } from '../alerts/replay.ts'
import { loadRuleFile } from '../alerts/rule-file.ts'
import { createLogger } from '../shared/logger.ts'
import { withStorage } from './admin.ts'

// `vitalwire rules test <rules-file> --since 30d [--json]`: replay stored history through a candidate
// rule set and report what it would have raised, per rule, patient and severity, without raising any.

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000 }

export function parseSince(value: string): number {
  const m = /^(\d+)([mhd])$/.exec(value)
  if (!m || Number(m[1]) === 0) throw new InvalidArgumentError('expected a duration like 90m, 12h or 30d')
  return Number(m[1]) * UNIT_MS[m[2]]
}

function text(file: string, r: ReplayReport, dropped: string[]): string {
  const lines = [
    `Dry run of ${file} over ${r.from} .. ${r.to}: ${r.readings} readings; ${r.alerts} ${r.alerts === 1 ? 'alert' : 'alerts'} would have been raised (none were).`,
    // A rule file replaces the defaults: say plainly which default rules would stop running.
    ...(dropped.length
      ? [
          `WARNING: this file replaces the default rules, and these defaults are not in it, so they would no longer run: ${dropped.join(', ')}. Start from \`vitalwire rules defaults\` to keep them.`,
        ]
      : []),
    `By severity: ${Object.entries(r.bySeverity)
      .map(([s, n]) => `${s} ${n}`)
      .join(', ')}`,
    'By rule:',
  ]
  for (const [rule, c] of Object.entries(r.byRule).sort((a, b) => b[1].total - a[1].total)) {
    const { total, ...sev } = c
    const parts = Object.entries(sev).map(([s, n]) => `${s} ${n}`)
    lines.push(`  ${rule.padEnd(16)} ${String(total).padStart(5)}  (${parts.join(', ')})`)
  }
  lines.push('By patient:')
  for (const [p, c] of Object.entries(r.byPatient).sort((a, b) => b[1].total - a[1].total)) {
    const parts = Object.entries(c.rules).map(([rule, n]) => `${rule} ${n}`)
    lines.push(`  ${p.padEnd(16)} ${String(c.total).padStart(5)}  (${parts.join(', ')})`)
  }
  if (r.notReplayed.length) lines.push(`Not replayable from stored readings: ${r.notReplayed.join(', ')}`)
  return lines.join('\n')
}

export function rulesCommands(program: Command) {
  const rules = program.command('rules').description('alert rule sets')
  rules
    .command('defaults')
    .description('print the default rule set as JSON: the file to start a rule set of your own from')
    .action(() => {
      process.stdout.write(`${JSON.stringify(DEFAULT_RULES, null, 2)}\n`)
    })
  rules
    .command('test')
    .description('replay stored history through a candidate rule set; reports alerts without raising any')
    .argument('<rules-file>', 'JSON rule set (docs/alerts.md)')
    .option('--since <duration>', 'how far back to replay: 90m, 12h, 30d (default: 30d)', parseSince)
    .option('--json', 'print one JSON object')
    .action(async (file: string, o: { since?: number; json?: boolean }) => {
      // Validate the file before touching the database: a bad file fails fast with every problem listed.
      const candidate = loadRuleFile(file)
      await withStorage(async (storage) => {
        const toMs = Date.now()
        const { replay } = await import('../alerts/replay.ts')
        const report = await replay({
          rules: candidate,
          fromMs: toMs - (o.since ?? 30 * UNIT_MS.d),
          toMs,
          readings: storage.readings,
          patients: await storage.registry.listPatients(),
          log: createLogger({ level: 'silent' }),
        })
        const have = new Set(candidate.rules.map((r) => r.id))
        const dropped = DEFAULT_RULES.rules.map((r) => r.id).filter((id) => !have.has(id))
        process.stdout.write(
          o.json
            ? `${JSON.stringify({ ...report, defaultsNotInFile: dropped })}\n`
            : `${text(file, report, dropped)}\n`,
        )
      })
    })
}
