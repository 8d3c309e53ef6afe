import net from 'node:net'
import tls from 'node:tls'
import { VitalwireError } from '../shared/errors.ts'
import type { Logger } from '../shared/logger.ts'
import type { BrokerOptions } from './options.ts'
import type { Outcomes } from './outcomes.ts'

// The sockets devices reach: TLS 1.2+ always; plain TCP only when configured, and only on loopback.
// Addresses that used up their authentication failures are dropped at accept, before the TLS handshake
// costs us anything; connections beyond maxConnections are dropped by Node and counted.

/** Lifetime of a TLS session ticket (Node's default, stated here because resumption is part of the design). */
export const TLS_SESSION_TIMEOUT_S = 300

export const ipOfSocket = (s: net.Socket) => (s.remoteAddress ?? 'unknown').replace(/^::ffff:/, '')

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.')
}

export function createListeners(
  options: BrokerOptions,
  handle: (socket: net.Socket) => void,
  blocked: (ip: string) => boolean,
  outcomes: Outcomes,
  log: Logger,
) {
  const tlsServer = tls.createServer(
    {
      cert: options.tls.cert,
      key: options.tls.key,
      ca: options.tls.ca,
      minVersion: 'TLSv1.2', // TLS 1.0 and 1.1 are refused during the handshake
      // Ask for a client certificate but let devices that use a secret connect without one; the
      // authenticate hook decides (socket.authorized tells whether the chain and expiry verified).
      requestCert: true,
      rejectUnauthorized: false,
      handshakeTimeout: 10_000,
      // Session tickets let a reconnecting device resume (RFC 8446 2.2) instead of a full handshake.
      // Ticket keys are random per process (a restart invalidates every ticket); a ticket lasts
      // TLS_SESSION_TIMEOUT_S. Resumption only shortens the handshake: authenticate still checks each
      // CONNECT (secret, certificate fingerprint and validity period, CN = client id, revocation).
      sessionTimeout: TLS_SESSION_TIMEOUT_S,
    },
    handle,
  )
  const plainServer =
    options.plainPort !== undefined
      ? net.createServer((s) => (blocked(ipOfSocket(s)) ? s.destroy() : handle(s)))
      : undefined
  if (plainServer && !isLoopback(options.plainHost)) {
    throw new VitalwireError(
      'VW_ERR_CONFIG_INVALID',
      `the plain MQTT listener must bind to loopback, not ${options.plainHost}`,
    )
  }
  // Runs before the TLS server's own connection listener, so a blocked address never gets a handshake.
  tlsServer.prependListener('connection', (socket: net.Socket) => {
    if (blocked(ipOfSocket(socket))) socket.destroy()
  })
  tlsServer.on('tlsClientError', (err) => log.debug({ err: err.message }, 'TLS handshake failed'))
  for (const server of [tlsServer, plainServer]) {
    if (!server) continue
    server.maxConnections = options.maxConnections
    server.on('drop', (d) =>
      outcomes.refused({ reason: 'max-connections', ip: d?.remoteAddress ?? 'unknown', audit: false }),
    )
  }

  const listen = (server: net.Server, port: number, host: string) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject)
      server.listen(port, host, () => {
        server.off('error', reject)
        resolve((server.address() as net.AddressInfo).port)
      })
    })

  return {
    async start(): Promise<{ port: number; plainPort?: number }> {
      const port = await listen(tlsServer, options.port, options.host)
      const plainPort = plainServer
        ? await listen(plainServer, options.plainPort!, options.plainHost)
        : undefined
      return { port, plainPort }
    },
    /** Stop accepting; resolves when every listener has closed. */
    async stop(): Promise<void> {
      await Promise.all(
        [tlsServer, plainServer]
          .filter((s): s is net.Server => Boolean(s?.listening))
          .map((s) => new Promise<void>((r) => s.close(() => r()))),
      )
    },
  }
}
