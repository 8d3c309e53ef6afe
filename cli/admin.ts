import fs from 'node:fs'
import os from 'node:os'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { prepareDataDir } from '../shared/components.ts'
import { VitalwireError } from '../shared/errors.ts'
import {
  addUser,
  birthDateProblem,
  PATIENT_ID_PATTERN,
  resetPassword,
  setUserDisabled,
} from '../shared/provisioning.ts'
import { openEmbeddedStorage } from '../storage/sqlite/index.ts'
import { configFromEnv, parseList } from './vitalwire.ts'

// Provisioning commands. They work whether or not the server runs: they write the same SQLite file,
// and a running server picks the change up from the registry events table within a second.

export type Out = { json?: boolean }

/** Open the data dir's database for one command and close it afterwards (CLI and server share the file). */
export async function withStorage<T>(
  fn: (s: ReturnType<typeof openEmbeddedStorage>, config: ReturnType<typeof configFromEnv>) => Promise<T>,
): Promise<T> {
  const config = configFromEnv()
  // A command run from another directory (./data is relative) would quietly start a data dir of its
  // own, which no running server sees: say where it went.
  if (!fs.existsSync(config.dataDir))
    process.stderr.write(
      `vitalwire: created the data dir ${config.dataDir} (VITALWIRE_DATA_DIR, default ./data): a server on another data dir will not see this\n`,
    )
  prepareDataDir(config.dataDir)
  const storage = openEmbeddedStorage({
    dataDir: config.dataDir,
    dbPath: config.dbPath,
    dataKey: config.dataKey,
    outbox: Boolean(config.influx),
  })
  try {
    return await fn(storage, config)
  } finally {
    storage.close()
  }
}

export function print(opts: Out, json: unknown, text: string) {
  process.stdout.write(opts.json ? `${JSON.stringify(json)}\n` : `${text}\n`)
}

function isoDate(value: string): string {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(`${value}T00:00:00Z`))) {
    throw new InvalidArgumentError('expected YYYY-MM-DD')
  }
  const problem = birthDateProblem(value)
  if (problem) throw new InvalidArgumentError(problem)
  return value
}

function patientId(value: string): string {
  if (!PATIENT_ID_PATTERN.test(value))
    throw new InvalidArgumentError('1-64 letters, digits, "." or "-" (a FHIR id)')
  return value
}

/**
 * Who ran the command, for the audit trail: the account the process runs as (from its uid, not from
 * $USER, which any caller sets and which docker exec, systemd and cron leave unset), and under sudo
 * the account that ran sudo.
 */
export function cliActor(): string {
  let name: string
  try {
    name = os.userInfo().username
  } catch {
    // A uid with no account (a container run with --user 1234).
    name = `uid ${process.getuid?.() ?? 'unknown'}`
  }
  const sudo = process.getuid?.() === 0 ? process.env.SUDO_USER : undefined
  return `cli:${name}${sudo ? ` (sudo from ${sudo})` : ''}`
}

export function adminCommands(program: Command) {
  const patients = program.command('patients').description('manage patients')
  patients
    .command('add')
    .description('enroll a patient')
    .requiredOption('--id <id>', 'patient id (FHIR id: letters, digits, "-", ".")', patientId)
    .requiredOption('--name <name>', 'full name (encrypted at rest)')
    .option('--birth-date <date>', 'YYYY-MM-DD (encrypted at rest)', isoDate)
    .option('--hypercapnic', 'flag for NEWS2 SpO2 scale 2 and an 88 % SpO2 target')
    .option('--on-oxygen', 'patient is on supplemental oxygen (NEWS2)')
    .option('--json', 'print one JSON object')
    .action(
      async (
        o: { id: string; name: string; birthDate?: string; hypercapnic?: boolean; onOxygen?: boolean } & Out,
      ) =>
        withStorage(async (s) => {
          const flags = {
            ...(o.hypercapnic ? { hypercapnic: true } : {}),
            ...(o.onOxygen ? { onOxygen: true } : {}),
          }
          const p = await s.registry.addPatient({ id: o.id, name: o.name, birthDate: o.birthDate, flags })
          s.audit.append({ actor: cliActor(), action: 'patient.add', outcome: 'ok', patientId: p.id })
          print(o, { id: p.id }, `patient ${p.id} added`)
        }),
    )
  patients
    .command('list')
    .description('list patients')
    .option('--json', 'print one JSON object')
    .action(async (o: Out) =>
      withStorage(async (s) => {
        const list = await s.registry.listPatients()
        s.audit.append({
          actor: cliActor(),
          action: 'patients.list',
          outcome: 'ok',
          // The patients disclosed, so that the audit of each patient (`?patient=`) shows this read.
          detail: { count: list.length, patients: list.map((p) => p.id) },
        })
        print(
          o,
          { patients: list },
          list
            .map((p) => `${p.id}\t${p.name}\t${p.birthDate ?? ''}\t${p.monitoring ? 'monitoring' : 'paused'}`)
            .join('\n') || '(no patients)',
        )
      }),
    )
  for (const [name, monitoring] of [
    ['pause', false],
    ['resume', true],
  ] as const) {
    patients
      .command(`${name} <id>`)
      .description(
        monitoring
          ? "resume monitoring: the patient's devices may connect again"
          : "stop monitoring: disconnects and refuses the patient's devices",
      )
      .option('--json', 'print one JSON object')
      .action(async (id: string, o: Out) =>
        withStorage(async (s) => {
          await s.registry.setMonitoring(id, monitoring)
          s.audit.append({ actor: cliActor(), action: `patient.${name}`, outcome: 'ok', patientId: id })
          print(o, { id, monitoring }, `patient ${id} monitoring ${monitoring ? 'resumed' : 'paused'}`)
        }),
      )
  }

  const users = program.command('users').description('manage users')
  users
    .command('add')
    .description('add a user; prints a one-time password once')
    .requiredOption('--email <email>', 'login email')
    .addOption(
      new Option('--role <role>', 'admin sees all patients; others see their care team')
        .choices(['admin', 'coordinator', 'clinician'])
        .makeOptionMandatory(),
    )
    .option('--patients <ids>', 'care team: comma-separated patient ids', parseList, [])
    .option('--json', 'print one JSON object')
    .action(
      async (o: { email: string; role: 'admin' | 'coordinator' | 'clinician'; patients: string[] } & Out) =>
        withStorage(async (s, config) => {
          const u = await addUser(s.registry, o)
          s.audit.append({
            actor: cliActor(),
            action: 'user.add',
            outcome: 'ok',
            target: o.email,
            detail: { role: o.role },
          })
          const dashboard = `${config.http.tls ? 'https' : 'http'}://${config.http.host}:${config.http.port}`
          print(
            o,
            u,
            `user ${u.email} added (${o.role})\none-time password (shown once): ${u.password}\n` +
              `sign in at ${dashboard} (the server's dashboard): the first sign-in asks for a new password before anything else`,
          )
        }),
    )
  users
    .command('list')
    .description('list users')
    .option('--json', 'print one JSON object')
    .action(async (o: Out) =>
      withStorage(async (s) => {
        const list = await Promise.all(
          (await s.registry.listUsers()).map(async (u) => ({
            id: u.id,
            email: u.email,
            role: u.role,
            patients: await s.registry.careTeamOf(u.id),
          })),
        )
        // Care teams say who is whose patient: recorded like the other lists.
        s.audit.append({
          actor: cliActor(),
          action: 'users.list',
          outcome: 'ok',
          detail: { count: list.length, patients: [...new Set(list.flatMap((u) => u.patients))] },
        })
        print(
          o,
          { users: list },
          list.map((u) => `${u.email}\t${u.role}\t${u.patients.join(',')}`).join('\n') || '(no users)',
        )
      }),
    )
  userCommands(users)
}

/**
 * `users disable|enable|reset-password --email`: an account that must stop (someone who left, a
 * compromised account) or a lost password. The running server sees the change within a second.
 */
function userCommands(users: Command) {
  const byEmail = async (s: ReturnType<typeof openEmbeddedStorage>, email: string) => {
    const u = await s.registry.getUserByEmail(email)
    if (!u) throw new VitalwireError('VW_ERR_NOT_FOUND', `no user ${email}`)
    return u
  }
  for (const [verb, disabled] of [
    ['disable', true],
    ['enable', false],
  ] as const) {
    users
      .command(verb)
      .description(
        disabled
          ? 'disable a user: no sign-in, and their sessions, tokens and WebSockets stop'
          : 'enable a disabled user again',
      )
      .requiredOption('--email <email>', 'login email')
      .option('--json', 'print one JSON object')
      .action(async (o: { email: string } & Out) =>
        withStorage(async (s) => {
          const u = await setUserDisabled(s.registry, (await byEmail(s, o.email)).id, disabled)
          s.audit.append({ actor: cliActor(), action: `user.${verb}`, outcome: 'ok', target: u.email })
          print(o, { email: u.email, disabled }, `user ${u.email} ${disabled ? 'disabled' : 'enabled'}`)
        }),
      )
  }
  users
    .command('reset-password')
    .description('give a user a new one-time password (printed once); their sessions end')
    .requiredOption('--email <email>', 'login email')
    .option('--json', 'print one JSON object')
    .action(async (o: { email: string } & Out) =>
      withStorage(async (s) => {
        const reset = await resetPassword(s.registry, (await byEmail(s, o.email)).id)
        s.audit.append({
          actor: cliActor(),
          action: 'user.password-reset',
          outcome: 'ok',
          target: reset.email,
        })
        print(
          o,
          reset,
          `new one-time password for ${reset.email} (shown once): ${reset.password}\n` +
            'the next sign-in asks for a new password before anything else',
        )
      }),
    )
}
