import fs from 'node:fs'
import os from 'node:os'
import { pkiPaths } from '../shared/pki.ts'
import type { configFromEnv } from './vitalwire.ts'

// What someone setting up a device needs right after enrolling it, in one place: where to connect,
// as whom, what to trust, where to publish and where errors come back, and a command that sends one
// reading, so the first message is a copy and paste rather than an afternoon with the docs.

export interface ConnectDetails {
  url: string
  host: string
  port: number
  clientId: string
  /** With a secret: the MQTT username (the device id); the password is the secret. */
  username?: string
  readingsTopic: string
  errorsTopic: string
  /** The CA file that signs the broker's certificate, when it is the development CA. */
  ca?: string
}

type Config = ReturnType<typeof configFromEnv>

const WILDCARD = new Set(['0.0.0.0', '::', '[::]'])

export function connectDetails(config: Config, id: string, auth: 'secret' | 'cert'): ConnectDetails {
  const host = WILDCARD.has(config.mqtt.host) ? os.hostname() : config.mqtt.host
  const bracketed = host.includes(':') ? `[${host}]` : host
  return {
    url: `mqtts://${bracketed}:${config.mqtt.port}`,
    host,
    port: config.mqtt.port,
    clientId: id,
    ...(auth === 'secret' ? { username: id } : {}),
    readingsTopic: `rpm/v1/devices/${id}/readings`,
    errorsTopic: `rpm/v1/devices/${id}/errors`,
    ...(config.mqtt.tlsCert ? {} : { ca: pkiPaths(config.pkiDir).caCert }),
  }
}

/** The text block: connection details and a mosquitto_pub line that sends one reading now. */
export function connectText(
  c: ConnectDetails,
  device: { type: string; secret?: string; cert?: string; key?: string },
  now = new Date(),
): string {
  const trust = c.ca
    ? `${c.ca}${fs.existsSync(c.ca) ? '' : ' (created by the first npm start)'}`
    : 'the CA that issued VITALWIRE_TLS_CERT'
  const lines = [
    'connect:',
    `  broker      ${c.url} (MQTT 3.1.1 over TLS)`,
    `  client id   ${c.clientId}${c.username ? `, username ${c.username}, password the secret` : ', with its certificate and key'}`,
    `  trust       ${trust}`,
    `  publish     ${c.readingsTopic} (QoS 1: acknowledged once stored)`,
    `  errors on   ${c.errorsTopic}`,
  ]
  if (device.type !== 'generic') {
    lines.push(`  payloads    the ${device.type} format (ingest/mappings/vendors/${device.type}.json)`)
    return lines.join('\n')
  }
  const reading = JSON.stringify({
    id: 'r-1',
    type: 'heart-rate',
    value: 72,
    unit: '/min',
    ts: now.toISOString(),
  })
  const auth = device.secret
    ? `-u ${c.username} -P '${device.secret}'`
    : `--cert ${device.cert ?? `${c.clientId}.crt`} --key ${device.key ?? `${c.clientId}.key`}`
  const ca = c.ca ? `--cafile ${c.ca}` : '--cafile <CA file>'
  lines.push(
    'send one reading (Debian package mosquitto-clients):',
    `  mosquitto_pub -h ${c.host} -p ${c.port || '<the port the server prints>'} ${ca} -i ${c.clientId} ${auth} -q 1 \\`,
    `    -t ${c.readingsTopic} -m '${reading}'`,
  )
  return lines.join('\n')
}
