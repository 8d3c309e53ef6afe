import { spawn, spawnSync } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import mqtt from 'mqtt'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { ensureDevelopmentPki } from '../../shared/pki.ts'
import { eventually } from '../helpers/api-client.ts'
import { exited, ROOT, runCli, startServerProcess } from '../helpers/cli.ts'
import { tempDir } from '../helpers/harness.ts'
import { freePort } from '../helpers/influxd.ts'
import { requireBinary } from '../helpers/requirements.ts'

// The CLI as a new user and a script meet it: real child processes, a real data dir.

// Generous timeout: each test spawns several Node processes, which takes long on a loaded CI machine.
describe('vitalwire CLI', { timeout: 120_000 }, () => {
  let dataDir: string
  let env: Record<string, string>
  beforeEach(() => {
    dataDir = tempDir()
    env = { VITALWIRE_DATA_DIR: dataDir }
  })
  afterEach(() => fs.rmSync(dataDir, { recursive: true, force: true }))

  /** Patient p1 with device hr-1 (secret) in this test's data dir, through the CLI; the secret. */
  async function enrollHr1(): Promise<string> {
    await runCli(['patients', 'add', '--id', 'p1', '--name', 'X'], env)
    return JSON.parse(
      (await runCli(['devices', 'add', '--id', 'hr-1', '--patient', 'p1', '--json'], env)).stdout,
    ).secret
  }
  const connectHr1 = (ready: { mqtts: string; ca: string }, secret: string) =>
    mqtt.connectAsync(ready.mqtts.replace('127.0.0.1', 'localhost'), {
      clientId: 'hr-1',
      username: 'hr-1',
      password: secret,
      ca: fs.readFileSync(ready.ca),
      reconnectPeriod: 0,
    })

  it('enrolls a patient, a device and a user with --json, printing secrets once and storing only hashes', async () => {
    const p = await runCli(
      ['patients', 'add', '--id', 'p1', '--name', 'Ada Lovelace', '--birth-date', '1815-12-10', '--json'],
      env,
    )
    expect(p.code).toBe(0)
    expect(JSON.parse(p.stdout)).toEqual({ id: 'p1' })
    const d = await runCli(['devices', 'add', '--id', 'hr-1', '--patient', 'p1', '--json'], env)
    const device = JSON.parse(d.stdout)
    expect(device).toEqual({
      id: 'hr-1',
      secret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      // Where and how it connects, for a provisioning script.
      connect: {
        url: 'mqtts://127.0.0.1:8883',
        host: '127.0.0.1',
        port: 8883,
        clientId: 'hr-1',
        username: 'hr-1',
        readingsTopic: 'rpm/v1/devices/hr-1/readings',
        errorsTopic: 'rpm/v1/devices/hr-1/errors',
        ca: path.join(dataDir, 'pki', 'ca.crt'),
      },
    })
    const u = await runCli(
      ['users', 'add', '--email', 'nurse@example.org', '--role', 'coordinator', '--patients', 'p1', '--json'],
      env,
    )
    const user = JSON.parse(u.stdout)
    expect(user).toEqual({ email: 'nurse@example.org', password: expect.stringMatching(/^.{20}$/) })

    const raw = fs.readFileSync(path.join(dataDir, 'vitalwire.db'))
    expect(raw.includes(device.secret)).toBe(false)
    expect(raw.includes(user.password)).toBe(false)
    expect(raw.includes('Ada Lovelace')).toBe(false)
    const db = new DatabaseSync(path.join(dataDir, 'vitalwire.db'), { readOnly: true })
    expect((db.prepare('SELECT secret_hash FROM devices').get() as any).secret_hash).toMatch(
      /^sha256\$[A-Za-z0-9_-]{43}$/,
    )
    db.close()
    expect(fs.statSync(dataDir).mode & 0o777).toBe(0o700)
    expect(fs.statSync(path.join(dataDir, 'vitalwire.db')).mode & 0o777).toBe(0o600)

    const list = JSON.parse((await runCli(['patients', 'list', '--json'], env)).stdout)
    expect(list.patients.map((x: any) => [x.id, x.name])).toEqual([['p1', 'Ada Lovelace']])
    // The list showed p1's name and birth date: p1's audit trail says so.
    const audited = new DatabaseSync(path.join(dataDir, 'vitalwire.db'), { readOnly: true })
    expect(
      audited
        .prepare(
          "SELECT a.action FROM audit a JOIN audit_patients p ON p.seq = a.seq WHERE p.patient_id = 'p1' AND a.action = 'patients.list'",
        )
        .all(),
    ).toHaveLength(1)
    audited.close()

    // An API token for the user: it says until when it works.
    const t = await runCli(
      ['tokens', 'create', '--email', 'nurse@example.org', '--label', 'EHR', '--expires-in-days', '30'],
      env,
    )
    expect(t.code).toBe(0)
    const until = /valid until (\S+) \(shown once\): vwt_/.exec(t.stdout)?.[1] ?? ''
    expect(Math.round((Date.parse(until) - Date.now()) / 86_400_000)).toBe(30)
  })

  it.each([
    [['patients', 'add', '--id', 'bad id', '--name', 'X'], /--id/],
    [['patients', 'add', '--id', 'p1', '--name', 'X', '--birth-date', '10/12/1815'], /YYYY-MM-DD/],
    [['patients', 'add', '--id', 'p1', '--name', 'X', '--birth-date', '2990-01-01'], /in the future/],
    [['devices', 'add', '--id', 'd1'], /--patient/],
    // Cert-only options on a secret device were silently ignored.
    [['devices', 'add', '--id', 'd1', '--patient', 'p1', '--days', '5'], /--days needs --auth cert/],
    [['devices', 'add', '--id', 'd1', '--patient', 'p1', '--out', '/tmp'], /--out needs --auth cert/],
    [['users', 'add', '--email', 'x@example.org', '--role', 'superuser'], /superuser/],
    [['start', '--only', 'broker,teleporter'], /teleporter/],
    [
      ['tokens', 'create', '--email', 'x@example.org', '--label', 'l', '--expires-in-days', '400'],
      /1 to 365/,
    ],
    [['simulate', '--devices', '0.5'], /whole number of at least 1/],
    [['simulate', '--devices', '2', '--start', 'tomorrow'], /--start must be an ISO 8601 time/],
    [['simulate', '--devices', '2', '--seed', 'abc'], /--seed must be a whole number/],
    [['simulate', '--devices', '2', '--faults', 'duplicates=2'], /from 0 to 1/],
    [
      ['simulate', '--devices', '2', '--profile', 'healthy', '--scenario', 'hypoglycemia'],
      /no simulated patient can show hypoglycemia/,
    ],
    // Before any server starts (it used to start, fail with a stack trace and keep running).
    [['demo', '--devices', '3'], /too few for the demo/],
    // The advice is the real minimum (it said "use 10 or more" to --devices 10, which fails too).
    [
      ['demo', '--devices', '10'],
      /too few for the demo: .*hypoglycemia: it needs a glucometer.*use 12 or more/,
    ],
    [
      ['simulate', '--devices', '4', '--profile', 'healthy', '--scenario', 'weight-gain'],
      /no simulated patient can show weight-gain: it needs a scale, on a patient flagged heartFailure/,
    ],
    [['simulate', '--devices', '2', '--faults', 'offline=0'], /offline=0: at least/],
    [['demo', '--every', '0'], /--every must be at least 10/],
    [['no-such-command'], /unknown command/],
  ])('rejects bad arguments %j with exit code 2 and a message', async (args, message) => {
    const r = await runCli(args, env)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
  })

  it.skipIf(!requireBinary('mosquitto_pub'))(
    'prints, when it enrolls a device, where to connect and a mosquitto_pub command that sends a reading the server stores',
    async () => {
      const mqttEnv = { ...env, VITALWIRE_MQTT_PORT: String(await freePort()) }
      const { child } = await startServerProcess(mqttEnv)
      try {
        await runCli(['patients', 'add', '--id', 'p1', '--name', 'X'], mqttEnv)
        const r = await runCli(['devices', 'add', '--id', 'hr-1', '--patient', 'p1'], mqttEnv)
        expect(r.stdout).toContain(`broker      mqtts://127.0.0.1:${mqttEnv.VITALWIRE_MQTT_PORT}`)
        expect(r.stdout).toContain('publish     rpm/v1/devices/hr-1/readings')
        expect(r.stdout).toContain('errors on   rpm/v1/devices/hr-1/errors')
        // The command as printed, run by a shell: copy and paste is all it takes.
        const command = r.stdout.slice(r.stdout.indexOf('mosquitto_pub'))
        const stored = () => {
          const db = new DatabaseSync(path.join(dataDir, 'vitalwire.db'), { readOnly: true })
          try {
            return (db.prepare("SELECT count(*) AS n FROM readings WHERE device_id = 'hr-1'").get() as any).n
          } finally {
            db.close()
          }
        }
        // The running server learns of the new device within a second (registry events): retry until then.
        await eventually(() => spawnSync('bash', ['-c', command]).status === 0 && stored() === 1, 10_000)
      } finally {
        child.kill('SIGTERM')
        await exited(child)
      }
    },
  )

  it('disables, enables and resets the password of a user (users disable|enable|reset-password)', async () => {
    await runCli(['users', 'add', '--email', 'n@example.org', '--role', 'clinician'], env)
    const row = () => {
      const db = new DatabaseSync(path.join(dataDir, 'vitalwire.db'), { readOnly: true })
      try {
        return db
          .prepare("SELECT disabled_ms, password_hash FROM users WHERE email = 'n@example.org'")
          .get() as any
      } finally {
        db.close()
      }
    }
    const before = row()
    expect(
      JSON.parse((await runCli(['users', 'disable', '--email', 'n@example.org', '--json'], env)).stdout),
    ).toEqual({
      email: 'n@example.org',
      disabled: true,
    })
    expect(row().disabled_ms).toEqual(expect.any(Number))
    expect((await runCli(['users', 'enable', '--email', 'n@example.org'], env)).stdout).toMatch(/enabled/)
    expect(row().disabled_ms).toBeNull()
    const reset = JSON.parse(
      (await runCli(['users', 'reset-password', '--email', 'n@example.org', '--json'], env)).stdout,
    )
    expect(reset).toEqual({ email: 'n@example.org', password: expect.stringMatching(/^.{20}$/) })
    expect(row().password_hash).not.toBe(before.password_hash)
    const unknown = await runCli(['users', 'disable', '--email', 'nobody@example.org'], env)
    expect([unknown.code, unknown.stderr]).toEqual([1, expect.stringContaining('no user nobody@example.org')])
  })

  it('says what is missing when a device is added for an unknown patient', async () => {
    const r = await runCli(['devices', 'add', '--id', 'd1', '--patient', 'ghost'], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toContain('patient ghost not found')
  })

  it('refuses to start on a bad configuration value, naming the variable', async () => {
    const r = await runCli(['start'], { ...env, VITALWIRE_HTTP_PORT: 'eighty' })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('VITALWIRE_HTTP_PORT')
  })

  it('takes settings from a config file (VITALWIRE_CONFIG), refusing a key it does not know', async () => {
    const file = path.join(dataDir, '..', `${path.basename(dataDir)}.env`)
    fs.writeFileSync(file, `VITALWIRE_DATA_DIR=${dataDir}\n`)
    await runCli(['patients', 'add', '--id', 'p1', '--name', 'X'], { VITALWIRE_CONFIG: file })
    const list = await runCli(['patients', 'list', '--json'], env)
    expect(JSON.parse(list.stdout).patients.map((p: { id: string }) => p.id)).toEqual(['p1'])
    fs.writeFileSync(file, 'VITALWIRE_HTTP_PROT=9090\n')
    const typo = await runCli(['start'], { ...env, VITALWIRE_CONFIG: file })
    expect([typo.code, typo.stderr]).toEqual([
      2,
      expect.stringContaining('unknown setting VITALWIRE_HTTP_PROT'),
    ])
    fs.rmSync(file)
  })

  it('refuses TLS files that are missing, no certificate, or a key of another certificate, and exits', async () => {
    // Two development PKIs (the same code as the server's): two certificates, each with its key.
    const tls = tempDir('vitalwire-tls-')
    const [one, two] = [
      await ensureDevelopmentPki(path.join(tls, '1')),
      await ensureDevelopmentPki(path.join(tls, '2')),
    ]
    const start = (extra: Record<string, string>) =>
      runCli(['start'], { ...env, VITALWIRE_MQTT_PORT: '0', VITALWIRE_HTTP_PORT: '0', ...extra })
    const cert = one.serverCert
    const notACert = path.join(tls, 'notes.txt')
    fs.writeFileSync(notACert, 'not a certificate')
    for (const [extra, message] of [
      [
        { VITALWIRE_TLS_CERT: '/nope.crt', VITALWIRE_TLS_KEY: one.serverKey },
        'VITALWIRE_TLS_CERT: cannot read /nope.crt (ENOENT)',
      ],
      [
        { VITALWIRE_TLS_CERT: cert, VITALWIRE_TLS_KEY: two.serverKey },
        'VITALWIRE_TLS_CERT / VITALWIRE_TLS_KEY: ',
      ],
      [
        {
          VITALWIRE_TLS_CERT: cert,
          VITALWIRE_TLS_KEY: one.serverKey,
          VITALWIRE_DEVICE_CA: notACert,
        },
        'VITALWIRE_DEVICE_CA: not a PEM certificate',
      ],
      [{ VITALWIRE_MQTT_HOST: '192.0.2.1' }, 'this machine has no such address; set VITALWIRE_MQTT_HOST'],
    ] as const) {
      const r = await start(extra)
      expect([r.code, r.stderr.trim().split('\n')[0]], message).toEqual([2, expect.stringContaining(message)])
    }
    fs.rmSync(tls, { recursive: true, force: true })
  })

  it('refuses a data key that does not open the stored patients, naming it, and leaves no key file behind', async () => {
    const key = (n: number) => Buffer.alloc(32, n).toString('base64')
    await runCli(['patients', 'add', '--id', 'p1', '--name', 'X'], { ...env, VITALWIRE_DATA_KEY: key(1) })
    const other = await runCli(['patients', 'list'], { ...env, VITALWIRE_DATA_KEY: key(2) })
    expect(other.code).toBe(2)
    expect(other.stderr).toContain('VITALWIRE_DATA_KEY does not open the patients stored in')
    // Forgotten: the key file made for the occasion is not the data's key, and is not left behind.
    const forgotten = await runCli(['patients', 'list'], env)
    expect(forgotten.code).toBe(2)
    expect(forgotten.stderr).toContain('there was no key file: were they written with VITALWIRE_DATA_KEY?')
    expect(fs.existsSync(path.join(dataDir, 'data.key'))).toBe(false)
    // The server does not start on it either (it said ready, and refused every device).
    const start = await runCli(['start'], {
      ...env,
      VITALWIRE_DATA_KEY: key(2),
      VITALWIRE_MQTT_PORT: '0',
      VITALWIRE_HTTP_PORT: '0',
    })
    expect(start.code).toBe(2)
    expect(start.stderr).toContain('VITALWIRE_DATA_KEY does not open')
    const right = await runCli(['patients', 'list', '--json'], { ...env, VITALWIRE_DATA_KEY: key(1) })
    expect(JSON.parse(right.stdout).patients.map((p: { name: string }) => p.name)).toEqual(['X'])
  })

  it('stops everything and exits when a port is taken, naming the setting to change', async () => {
    // A program already listening on one port; the other port free (picked the same way, then freed).
    const busy = net.createServer()
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r))
    const busyPort = String((busy.address() as net.AddressInfo).port)
    const probe = net.createServer()
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r))
    const freePort = String((probe.address() as net.AddressInfo).port)
    await new Promise((r) => probe.close(r))
    try {
      for (const [setting, ports] of [
        ['VITALWIRE_HTTP_PORT', { VITALWIRE_HTTP_PORT: busyPort, VITALWIRE_MQTT_PORT: freePort }],
        ['VITALWIRE_MQTT_PORT', { VITALWIRE_HTTP_PORT: freePort, VITALWIRE_MQTT_PORT: busyPort }],
      ] as const) {
        // Before, the broker kept running (acknowledging readings, raising alerts) with no dashboard, and
        // the process never exited: runCli would time out here.
        const r = await runCli(['start'], { ...env, ...ports })
        expect(r.code).toBe(2)
        expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${busyPort}: the port is in use`)
        expect(r.stderr).toContain(setting)
        expect(r.stderr).not.toMatch(/\n\s+at /) // a message, not a stack trace
        expect(r.stdout).not.toContain('Vitalwire is running')
      }
    } finally {
      await new Promise((r) => busy.close(r))
    }
  })

  it('has --help on every command', async () => {
    for (const args of [
      ['--help'],
      ['start', '--help'],
      ['devices', 'add', '--help'],
      ['users', 'add', '--help'],
      ['audit', 'verify', '--help'],
      ['bench', '--help'],
    ]) {
      const r = await runCli(args, env)
      expect(r.code).toBe(0)
      expect(r.stdout).toContain('Usage: vitalwire')
    }
  })

  it('says where a data dir it had to create is (a command run elsewhere makes a ./data of its own)', async () => {
    const fresh = path.join(dataDir, 'elsewhere', 'data')
    const first = await runCli(['patients', 'list'], { ...env, VITALWIRE_DATA_DIR: fresh })
    expect(first.stderr).toContain(`vitalwire: created the data dir ${fresh}`)
    expect((await runCli(['patients', 'list'], { ...env, VITALWIRE_DATA_DIR: fresh })).stderr).toBe('')
  })

  it('refuses bad arguments with a clear message and exit code 2, never a stack trace', async () => {
    for (const [args, message] of [
      [['dead-letters', 'list', '--limit', 'abc'], '--limit must be a whole number from 1 to 10000'],
      [['dead-letters', 'list', '--limit', '0'], '--limit must be a whole number from 1 to 10000'],
      // `bench` passes its options to bench/run.ts, which says which ones it takes.
      [['bench', '--nosuch'], "bench: Unknown option '--nosuch'"],
    ] as const) {
      const r = await runCli([...args], env)
      expect([r.code, r.stderr], args.join(' ')).toEqual([2, expect.stringContaining(message)])
      expect(r.stderr, args.join(' ')).not.toMatch(/^\s+at /m)
    }
  })

  it('starts, creates the data dir and PKI, accepts a device, and stops cleanly on SIGTERM', async () => {
    const secret = await enrollHr1()
    const { child, ready } = await startServerProcess(env)
    expect(ready).toMatchObject({ status: 'ready', dataDir, ca: path.join(dataDir, 'pki', 'ca.crt') })
    expect(fs.existsSync(path.join(dataDir, 'pki', 'server.crt'))).toBe(true)
    const client = await connectHr1(ready, secret)
    await client.publishAsync(
      'rpm/v1/devices/hr-1/readings',
      JSON.stringify({ id: 'r1', type: 'heart-rate', value: 64 }),
      { qos: 1 },
    )
    await client.endAsync()
    child.kill('SIGTERM')
    expect(await exited(child)).toEqual({ code: 0, signal: null })
    // Closed cleanly: the WAL was checkpointed into the main file and the reading is there.
    expect(fs.existsSync(path.join(dataDir, 'vitalwire.db-wal'))).toBe(false)
    const db = new DatabaseSync(path.join(dataDir, 'vitalwire.db'), { readOnly: true })
    expect((db.prepare('SELECT key FROM readings').all() as any[]).map((r) => r.key)).toEqual(['hr-1:r1'])
    expect((db.prepare('PRAGMA integrity_check').get() as any).integrity_check).toBe('ok')
    db.close()
  })

  it('lists what ingest rejected and why (dead-letters list), the payload only on request and audited', async () => {
    const secret = await enrollHr1()
    const { child, ready } = await startServerProcess(env)
    try {
      const client = await connectHr1(ready, secret)
      // Acknowledged like any message (nothing is lost), and kept aside with the reason.
      await client.publishAsync(
        'rpm/v1/devices/hr-1/readings',
        JSON.stringify({ id: 'r1', type: 'heart-rate', value: 64, unit: 'K' }),
        { qos: 1 },
      )
      await client.endAsync()
    } finally {
      child.kill('SIGTERM')
      await exited(child)
    }
    const listed = JSON.parse((await runCli(['dead-letters', 'list', '--json'], env)).stdout)
    expect(listed.deadLetters).toEqual([
      {
        receivedAt: expect.any(String),
        deviceId: 'hr-1',
        readingId: 'r1',
        code: 'VW_ERR_INGEST_UNIT',
        reason: expect.stringContaining('unit "K" is not accepted for heart-rate'),
      },
    ])
    const text = (await runCli(['dead-letters', 'list', '--device', 'hr-1'], env)).stdout
    expect(text).toMatch(/ {2}hr-1 {2}r1 {2}VW_ERR_INGEST_UNIT {2}unit "K" is not accepted/)
    expect((await runCli(['dead-letters', 'list', '--device', 'other'], env)).stdout).toBe(
      'no dead letters in that period\n',
    )
    const withPayload = JSON.parse(
      (await runCli(['dead-letters', 'list', '--payload', '--json'], env)).stdout,
    )
    expect(JSON.parse(withPayload.deadLetters[0].payload)).toMatchObject({ id: 'r1', unit: 'K' })
    // $USER is whatever the caller says: the actor is the account the process runs as.
    await runCli(['devices', 'list', '--json'], { ...env, USER: 'somebody-else' })
    const db = new DatabaseSync(path.join(dataDir, 'vitalwire.db'), { readOnly: true })
    const rows = db.prepare('SELECT seq, actor, action FROM audit').all() as {
      seq: number
      actor: string
      action: string
    }[]
    // Every read that showed p1's data is in p1's audit trail (the index `?patient=p1` reads).
    const aboutP1 = new Set(
      (db.prepare("SELECT seq FROM audit_patients WHERE patient_id = 'p1'").all() as { seq: number }[]).map(
        (r) => r.seq,
      ),
    )
    db.close()
    const reads = rows.filter((r) =>
      ['dead-letters.list', 'dead-letters.payload', 'devices.list'].includes(r.action),
    )
    expect(reads.map((r) => r.action)).toEqual([
      'dead-letters.list',
      'dead-letters.list',
      'dead-letters.list',
      'dead-letters.payload',
      'devices.list',
    ])
    // The list for another device showed nothing of p1.
    expect(reads.map((r) => aboutP1.has(r.seq))).toEqual([true, true, false, true, true])
    expect(new Set(reads.map((r) => r.actor))).toEqual(new Set([`cli:${os.userInfo().username}`]))
  })

  it('says how to create the first user and the first patient, and where a new user signs in', async () => {
    const readyText = async () => {
      const child = spawn(process.execPath, [path.join(ROOT, 'cli', 'vitalwire.ts'), 'start'], {
        env: { ...process.env, ...env, VITALWIRE_MQTT_PORT: '0', VITALWIRE_HTTP_PORT: '0' },
        stdio: ['ignore', 'pipe', 'ignore'],
      })
      let out = ''
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d
          if (out.includes('Press Ctrl+C to stop.')) resolve()
        })
        child.once('exit', (code) => reject(new Error(`start exited with ${code}: ${out}`)))
      })
      child.kill('SIGTERM')
      await exited(child)
      return out
    }
    const hint = 'nobody can sign in yet: npx vitalwire users add --email you@example.org --role admin'
    const patientHint = 'no patients yet: npx vitalwire patients add --id p1'
    const first = await readyText()
    expect(first).toContain(hint)
    expect(first).toContain(patientHint)
    const added = await runCli(['users', 'add', '--email', 'a@example.org', '--role', 'admin'], env)
    expect(added.code).toBe(0)
    // Where to sign in, and that the one-time password must be changed first.
    expect(added.stdout).toContain('sign in at http://127.0.0.1:8080 (the server')
    expect(added.stdout).toContain('the first sign-in asks for a new password')
    expect(await readyText()).not.toContain(hint)
    await runCli(['patients', 'add', '--id', 'p1', '--name', 'X'], env)
    expect(await readyText()).not.toContain(patientHint)
  })
})
