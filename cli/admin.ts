import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { knownDeviceTypes } from '../ingest/mappings/index.ts'
import { prepareDataDir } from '../shared/components.ts'
import { VitalwireError } from '../shared/errors.ts'
import { addUser, birthDateProblem, enrollDevice, PATIENT_ID_PATTERN } from '../shared/provisioning.ts'
import { openEmbeddedStorage } from '../storage/sqlite/index.ts'
import { connectDetails, connectText } from './device-connect.ts'
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

function deviceType(value: string): string {
  const known = knownDeviceTypes()
  if (!known.includes(value)) throw new InvalidArgumentError(`unknown mapping; known: ${known.join(', ')}`)
  return value
}

/** A file an option (or setting) names, read as text; unreadable: an argument error naming it. */
function readFileArg(file: string, option: string): string {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch (e) {
    throw new VitalwireError(
      'VW_ERR_CLI_ARGUMENT',
      `cannot read ${option} ${file}: ${(e as Error).message}`,
      {
        cause: e,
      },
    )
  }
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

  const devices = program.command('devices').description('manage devices')
  devices
    .command('add')
    .description('enroll a device; prints its secret once, or writes its certificate and key')
    .requiredOption('--id <id>', 'device id (also its MQTT client id)')
    .requiredOption('--patient <id>', 'the patient this device measures')
    .option(
      '--type <mapping>',
      `payload mapping: ${knownDeviceTypes().join(', ')} (generic = canonical readings)`,
      deviceType,
      'generic',
    )
    .addOption(
      new Option('--auth <kind>', 'how the device authenticates')
        .choices(['secret', 'cert'])
        .default('secret'),
    )
    .option(
      '--out <dir>',
      'with --auth cert: where to write <id>.crt and <id>.key (default <data>/pki/devices)',
    )
    .option(
      '--csr <file>',
      "with --auth cert: sign this PEM certificate signing request (the device's key never leaves it); writes only <id>.crt",
    )
    .option(
      '--cert <file>',
      'with --auth cert: register this certificate, issued by your own device CA (VITALWIRE_DEVICE_CA, or the development CA) for CN = the device id, instead of issuing one',
    )
    .option('--days <n>', 'with --auth cert: certificate validity in days', (v) => {
      const n = Number(v)
      if (!Number.isInteger(n) || n < 1 || n > 3650)
        throw new InvalidArgumentError('an integer from 1 to 3650')
      return n
    })
    .option('--json', 'print one JSON object')
    .action(
      async (
        o: {
          id: string
          patient: string
          type: string
          auth: 'secret' | 'cert'
          out?: string
          csr?: string
          cert?: string
          days?: number
        } & Out,
      ) =>
        withStorage(async (s, config) => {
          // The cert-only options mean nothing to a secret device: say so rather than ignore them.
          for (const [given, name] of [
            [o.csr, '--csr'],
            [o.out, '--out'],
            [o.days, '--days'],
            [o.cert, '--cert'],
          ] as const)
            if (given !== undefined && o.auth !== 'cert')
              throw new VitalwireError('VW_ERR_CLI_ARGUMENT', `${name} needs --auth cert`)
          if (o.cert !== undefined && (o.csr ?? o.out ?? o.days) !== undefined)
            throw new VitalwireError(
              'VW_ERR_CLI_ARGUMENT',
              '--cert registers a certificate as it is: --csr, --out and --days are for one Vitalwire issues',
            )
          if (o.auth === 'cert' && config.mqtt.deviceCa && o.cert === undefined) {
            // The broker trusts only VITALWIRE_DEVICE_CA then; a development-CA certificate would be refused.
            throw new VitalwireError(
              'VW_ERR_CONFIG_INVALID',
              `VITALWIRE_DEVICE_CA is set (${config.mqtt.deviceCa}): issuing a device certificate requires that CA's private key, which Vitalwire does not hold. Sign the device's CSR with your CA (docs/broker.md, "Using your own CA"); --auth cert issues only from the development CA`,
            )
          }
          const csr = o.csr === undefined ? undefined : readFileArg(o.csr, '--csr')
          if (o.auth === 'cert' && !config.mqtt.deviceCa)
            await (await import('../shared/pki.ts')).ensureDevelopmentPki(config.pkiDir)
          const devCa = path.join(config.pkiDir, 'ca.crt')
          const certificate =
            o.cert === undefined
              ? undefined
              : {
                  pem: readFileArg(o.cert, '--cert'),
                  file: path.resolve(o.cert),
                  trustedCa: readFileArg(config.mqtt.deviceCa ?? devCa, 'VITALWIRE_DEVICE_CA'),
                  serverCa: config.mqtt.tlsCert ?? devCa,
                }
          const d = await enrollDevice(s.registry, {
            id: o.id,
            patientId: o.patient,
            type: o.type,
            auth: o.auth,
            pkiDir: config.pkiDir,
            knownTypes: knownDeviceTypes(),
            outDir: o.out,
            days: o.days,
            csr,
            certificate,
          })
          s.audit.append({
            actor: cliActor(),
            action: 'device.enroll',
            outcome: 'ok',
            patientId: o.patient,
            target: o.id,
          })
          const connect = connectDetails(config, d.id, d.auth)
          if (d.auth === 'secret') {
            print(
              o,
              { id: d.id, secret: d.secret, connect },
              `device ${d.id} enrolled for patient ${d.patientId}\nsecret (shown once, store it in the device): ${d.secret}\n${connectText(connect, { type: o.type, secret: d.secret })}`,
            )
          } else {
            print(
              o,
              {
                id: d.id,
                cert: d.cert,
                ...(d.key ? { key: d.key } : {}),
                ca: d.ca,
                notAfter: d.notAfter,
                connect,
              },
              `device ${d.id} enrolled for patient ${d.patientId}\ncertificate: ${d.cert}\n${d.key ? `key:         ${d.key}\n` : ''}CA to trust: ${d.ca}\nvalid until ${d.notAfter}\n${connectText(connect, { type: o.type, cert: d.cert, key: d.key })}`,
            )
          }
        }),
    )
  devices
    .command('list')
    .description('list devices with status')
    .option('--json', 'print one JSON object')
    .action(async (o: Out) =>
      withStorage(async (s) => {
        const list = (await s.registry.listDevices()).map(({ secretHash: _, ...d }) => d)
        s.audit.append({
          actor: cliActor(),
          action: 'devices.list',
          outcome: 'ok',
          detail: { count: list.length, patients: [...new Set(list.map((d) => d.patientId))] },
        })
        print(
          o,
          { devices: list },
          list
            .map(
              (d) =>
                `${d.id}\t${d.patientId}\t${d.type}\t${d.auth}\t${d.revokedMs ? 'revoked' : d.connected ? 'connected' : 'offline'}`,
            )
            .join('\n') || '(no devices)',
        )
      }),
    )
  devices
    .command('revoke <id>')
    .description('revoke a device: disconnects it at once and refuses it afterwards')
    .option('--json', 'print one JSON object')
    .action(async (id: string, o: Out) =>
      withStorage(async (s) => {
        const d = await s.registry.revokeDevice(id)
        s.audit.append({
          actor: cliActor(),
          action: 'device.revoke',
          outcome: 'ok',
          patientId: d.patientId,
          target: id,
        })
        print(o, { id, revoked: true }, `device ${id} revoked`)
      }),
    )

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
}
