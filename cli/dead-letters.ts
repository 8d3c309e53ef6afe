import { type Command, InvalidArgumentError } from 'commander'
import { cliActor, withStorage } from './admin.ts'
import { parseSince } from './rules.ts'

// `vitalwire dead-letters list`: what ingest kept aside, and why. A rejected reading is still
// acknowledged (nothing is lost: the message is a dead letter) and its reason goes to the device's
// errors topic, which only the device's own connection can read; this is the operator's view of both.

/** A whole number 1-10000: `abc` was a stack trace, and 0, -1 or 1.5 quietly became 1. */
function limitArg(v: string): number {
  const n = Number(v)
  if (!(Number.isInteger(n) && n >= 1 && n <= 10_000))
    throw new InvalidArgumentError('--limit must be a whole number from 1 to 10000')
  return n
}

export function deadLetterCommands(program: Command) {
  program
    .command('dead-letters')
    .description('messages and readings ingest rejected and kept aside (docs/ingest.md)')
    .command('list')
    .description('the newest dead letters first: when, device, reading id, error code and reason')
    .option('--device <id>', 'only this device')
    .option('--since <duration>', 'how far back: 90m, 12h, 30d (default: 1d)', parseSince)
    .option('--limit <n>', 'at most this many, 1-10000 (default 50)', limitArg)
    .option('--payload', 'also print the message as received (it may hold patient data)')
    .option('--json', 'print one JSON object')
    .action(
      async (o: { device?: string; since?: number; limit?: number; payload?: boolean; json?: boolean }) =>
        withStorage(async (s) => {
          const rows = s.deadLetters.list({
            sinceMs: Date.now() - (o.since ?? 86_400_000),
            deviceId: o.device,
            limit: o.limit ?? 50,
          })
          // Reasons quote the values sent ("heart-rate 400 /min is outside ..."), and payloads hold all
          // of them: reading either is recorded like any access to patient data, with the patients whose
          // devices sent them, so that each patient's audit (`?patient=`) shows it.
          const patientOf = new Map((await s.registry.listDevices()).map((d) => [d.id, d.patientId]))
          const patients = [...new Set(rows.flatMap((r) => (r.deviceId && patientOf.get(r.deviceId)) || []))]
          s.audit.append({
            actor: cliActor(),
            action: o.payload ? 'dead-letters.payload' : 'dead-letters.list',
            outcome: 'ok',
            target: o.device,
            detail: { count: rows.length, patients },
          })
          const items = rows.map((r) => ({
            receivedAt: new Date(r.receivedMs).toISOString(),
            deviceId: r.deviceId,
            readingId: r.readingId,
            code: r.code,
            reason: r.reason,
            ...(o.payload && r.payload ? { payload: Buffer.from(r.payload).toString('utf8') } : {}),
          }))
          if (o.json) return void process.stdout.write(`${JSON.stringify({ deadLetters: items })}\n`)
          if (items.length === 0) return void process.stdout.write('no dead letters in that period\n')
          for (const d of items)
            process.stdout.write(
              `${d.receivedAt}  ${d.deviceId ?? '-'}  ${d.readingId ?? '-'}  ${d.code}  ${d.reason}\n` +
                (d.payload !== undefined ? `    ${d.payload}\n` : ''),
            )
        }),
    )
}
