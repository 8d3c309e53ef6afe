import fs from 'node:fs'
import path from 'node:path'
import { type Command, InvalidArgumentError, Option } from 'commander'
import { knownDeviceTypes } from '../ingest/mappings/index.ts'
import { VitalwireError } from '../shared/errors.ts'
import { enrollDevice } from '../shared/provisioning.ts'
import { cliActor, type Out, print, withStorage } from './admin.ts'
import { connectDetails, connectText } from './device-connect.ts'

// `vitalwire devices add | list | revoke`: enrollment (a secret, a certificate Vitalwire issues, or one
// the deployment's own CA issued), the fleet's status, and revocation, which a running server applies
// at once (it disconnects the device).

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

export function deviceCommands(program: Command) {
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
        const before = await s.registry.getDevice(id)
        if (before?.revokedMs !== undefined)
          throw new VitalwireError(
            'VW_ERR_CONFLICT',
            `device ${id} was already revoked at ${new Date(before.revokedMs).toISOString()}; nothing changed`,
          )
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
}
