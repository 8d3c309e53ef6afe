import { type Command, InvalidArgumentError } from 'commander'
import { VitalwireError } from '../shared/errors.ts'
import { TOKEN_DAYS } from '../storage/ports.ts'
import { createSqliteTokenStore } from '../storage/sqlite/tokens.ts'
import { cliActor, type Out, print, withStorage } from './admin.ts'

// Access to the data from outside: API tokens for machine clients, and the audit log's check.

function tokenDays(value: string): number {
  const n = Number(value)
  if (!Number.isInteger(n) || n < 1 || n > TOKEN_DAYS.max)
    throw new InvalidArgumentError(`an integer from 1 to ${TOKEN_DAYS.max}`)
  return n
}

export function accessCommands(program: Command) {
  const tokens = program.command('tokens').description('API tokens for machine clients')
  tokens
    .command('create')
    .description('create an API token acting as a user; prints it once')
    .requiredOption('--email <email>', 'the user the token acts as')
    .requiredOption('--label <label>', 'what the token is for')
    .option(
      '--expires-in-days <days>',
      `how long the token works, 1 to ${TOKEN_DAYS.max}`,
      tokenDays,
      TOKEN_DAYS.default,
    )
    .option('--json', 'print one JSON object')
    .action(async (o: { email: string; label: string; expiresInDays: number } & Out) =>
      withStorage(async (s) => {
        const user = await s.registry.getUserByEmail(o.email)
        if (!user) throw new VitalwireError('VW_ERR_NOT_FOUND', `user ${o.email} not found`)
        const t = await createSqliteTokenStore(s.db).create(user.id, o.label, o.expiresInDays)
        s.audit.append({
          actor: cliActor(),
          action: 'token.create',
          outcome: 'ok',
          target: t.id,
          detail: { user: o.email, expiresAt: t.expiresAt },
        })
        print(o, t, `token ${t.id} for ${o.email}, valid until ${t.expiresAt} (shown once): ${t.token}`)
      }),
    )
  tokens
    .command('revoke <id>')
    .description('revoke an API token')
    .option('--json', 'print one JSON object')
    .action(async (id: string, o: Out) =>
      withStorage(async (s) => {
        if (!(await createSqliteTokenStore(s.db).revoke(id)))
          throw new VitalwireError('VW_ERR_NOT_FOUND', `token ${id} not found or already revoked`)
        s.audit.append({ actor: cliActor(), action: 'token.revoke', outcome: 'ok', target: id })
        print(o, { id, revoked: true }, `token ${id} revoked`)
      }),
    )

  program
    .command('audit')
    .description('audit log')
    .command('verify')
    .description('verify the hash chain; names the first edited, inserted or deleted entry')
    .option('--json', 'print one JSON object')
    .action(async (o: Out) =>
      withStorage(async (s) => {
        const r = s.audit.verify()
        print(
          o,
          r,
          r.ok
            ? `audit log intact: ${r.entries} entries${r.head ? `; head ${r.head.seq} ${r.head.hash}` : ''}${r.anchored ? '' : ' (no head anchor found: truncation of the tail cannot be ruled out)'}`
            : `audit log TAMPERED at entry ${r.firstBadSeq}: ${r.reason}`,
        )
        if (!r.ok) process.exitCode = 1
      }),
    )
}
