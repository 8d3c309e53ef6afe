#!/usr/bin/env node
// Broker benchmark (not a timed test): TLS connections established per second and memory per idle
// connected device, for Vitalwire's broker and for Mosquitto on the same machine, certificates and load.
//
//   node bench/broker.ts [--devices 5000] [--cert-devices 2000] [--concurrency 64] [--clients 2]
//                        [--no-mosquitto] [--profile DIR] [--out FILE] [--server-flags '...']
//   node bench/broker.ts --quick      # iterations: 1000 + 250 devices, no Mosquitto, result in the
//                                     # temp dir (bench/results/broker.json is left alone), ~1 min
//
// The server runs as a child process (with --expose-gc) so the load generator's memory is separate.
// The load generator speaks raw MQTT 3.1.1 over node:tls (CONNECT, wait for CONNACK 0), from --clients
// child processes (a Node TLS client spends about as much CPU per handshake as the server, so one
// client thread would cap the rate). Phases: full handshakes (first connect, reconnect, client
// certificate) and TLS session resumption (each device reconnects with the ticket of its last session).
// On one machine the load generator shares the cores with the server: the server's CPU time per
// connection (and the per-core capacity derived from it) is the figure that load does not distort.
// Writes bench/results/broker.json.
//
// The parts are in bench/broker/: server.ts (the --server child), load-generator.ts (the --load
// children), load.ts (the parent's side of them), vitalwire.ts and mosquitto.ts (the two runs),
// provision.ts (the devices) and report.ts (machine and results file).

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { startLoad } from './broker/load.ts'
import { loadGenerator } from './broker/load-generator.ts'
import { benchMosquitto } from './broker/mosquitto.ts'
import { provision } from './broker/provision.ts'
import { describeMachine, uptime, writeResult } from './broker/report.ts'
import { serve } from './broker/server.ts'
import { benchVitalwire } from './broker/vitalwire.ts'

const { values: opt } = parseArgs({
  options: {
    server: { type: 'boolean', default: false },
    devices: { type: 'string' },
    'cert-devices': { type: 'string' },
    quick: { type: 'boolean', default: false },
    out: { type: 'string' },
    concurrency: { type: 'string', default: '64' },
    'no-mosquitto': { type: 'boolean', default: false },
    load: { type: 'boolean', default: false },
    clients: { type: 'string', default: '2' },
    profile: { type: 'string' },
    // Node/V8 flags for the server process only, e.g. '--single-threaded-gc' (recorded in the results).
    'server-flags': { type: 'string' },
    // Devices for the Mosquitto run; by default as many as Vitalwire's (--devices, --cert-devices).
    'mosquitto-devices': { type: 'string' },
  },
})
opt.devices ??= opt.quick ? '1000' : '5000'
opt['cert-devices'] ??= opt.quick ? '250' : '2000'
if (opt.quick) opt['no-mosquitto'] = true

async function main() {
  const devices = Number(opt.devices)
  const concurrency = Number(opt.concurrency)
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'vitalwire-bench-'))
  const machine = describeMachine()
  console.log(machine)
  const p = await provision(dir, devices, Number(opt['cert-devices']))
  // The server and load generator processes are this file again, with --server or --load.
  const load = startLoad(import.meta.filename, Number(opt.clients))
  const vitalwire = await benchVitalwire(dir, p, concurrency, load, {
    entry: import.meta.filename,
    profile: opt.profile,
    serverFlags: opt['server-flags'],
    loadProcesses: Number(opt.clients),
  })
  console.dir({ vitalwire }, { depth: 4 })
  const mosquitto = opt['no-mosquitto']
    ? undefined
    : await benchMosquitto(dir, p, concurrency, load, opt['mosquitto-devices'])
  console.log({ mosquitto })
  await load.stop()
  const result = {
    at: new Date().toISOString(),
    machine: { ...machine, uptimeAfter: uptime() },
    settings: {
      devices,
      certDevices: p.certs.length,
      concurrency,
      loadProcesses: Number(opt.clients),
      certificates: 'ECDSA P-256',
      keepaliveS: 600,
      serverFlags: opt['server-flags'],
    },
    vitalwire,
    mosquitto,
  }
  const out =
    opt.out ??
    (opt.quick
      ? path.join(os.tmpdir(), 'broker-quick.json')
      : path.join(import.meta.dirname, 'results', 'broker.json'))
  writeResult(out, result)
  fs.rmSync(dir, { recursive: true, force: true })
}

// Last, so every module-level constant above is initialised before either mode runs.
if (opt.server) await serve(opt.profile)
else if (opt.load) loadGenerator()
else await main()
