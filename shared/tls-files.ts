import { X509Certificate } from 'node:crypto'
import fs from 'node:fs'
import tls from 'node:tls'
import type { Config } from './config.ts'
import { VitalwireError } from './errors.ts'
import type { PkiPaths } from './pki.ts'

/**
 * The broker's certificate, key and device CA, read and checked now so that a missing file, a file that
 * is no certificate, or a key that is not the certificate's stops the start naming the variable (it
 * was a stack trace, and a start that never exited).
 */
export function readTlsFiles(config: Config, dev: PkiPaths) {
  const read = (file: string, variable: string | undefined) => {
    try {
      return fs.readFileSync(file, 'utf8')
    } catch (e) {
      throw new VitalwireError(
        'VW_ERR_CONFIG_INVALID',
        `${variable ?? 'development PKI'}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? e})`,
      )
    }
  }
  const cert = read(config.mqtt.tlsCert ?? dev.serverCert, config.mqtt.tlsCert && 'VITALWIRE_TLS_CERT')
  const key = read(config.mqtt.tlsKey ?? dev.serverKey, config.mqtt.tlsKey && 'VITALWIRE_TLS_KEY')
  const ca = read(config.mqtt.deviceCa ?? dev.caCert, config.mqtt.deviceCa && 'VITALWIRE_DEVICE_CA')
  try {
    tls.createSecureContext({ cert, key })
  } catch (e) {
    throw new VitalwireError(
      'VW_ERR_CONFIG_INVALID',
      `VITALWIRE_TLS_CERT / VITALWIRE_TLS_KEY: ${(e as Error).message} (a PEM certificate and its own private key)`,
    )
  }
  try {
    new X509Certificate(ca)
  } catch {
    throw new VitalwireError('VW_ERR_CONFIG_INVALID', 'VITALWIRE_DEVICE_CA: not a PEM certificate')
  }
  return { cert, key, ca }
}
