import type { Socket } from 'node:net'
import type { Client } from 'aedes'
import { VitalwireError } from '../shared/errors.ts'

// Maximum MQTT packet size. Aedes has no such limit: its mqtt-packet parser buffers a whole packet
// before emitting it, so a client announcing a 256 MB remaining length would make us buffer 256 MB.
// After each parse we read the length the parser has decoded from the fixed header
// ([MQTT-2.2.3] Remaining Length) and drop the connection as soon as it exceeds the limit, before the
// body arrives. This reads mqtt-packet's `packet.length` and the return value of `parse` (bytes still
// buffered); test/e2e/broker-limits.int.test.ts pins both against the installed versions.

const FIXED_HEADER_MAX = 5

export function guardPacketSize(
  client: Client,
  socket: Socket,
  maxBytes: number,
  onViolation: (declaredBytes: number) => void,
) {
  const parser = (client as any)._parser
  if (!parser || typeof parser.parse !== 'function') {
    throw new VitalwireError('VW_ERR_INTERNAL', 'aedes internals changed: cannot enforce the packet size')
  }
  const parse = parser.parse.bind(parser)
  let tripped = false
  // Feed the parser in slices no longer than the limit: an oversized packet can then never complete
  // inside one slice, so its declared length is seen before it is emitted, however big the read was.
  const slice = Math.min(maxBytes, 16 * 1024)
  parser.parse = (buf: Buffer) => {
    let left = 0
    for (let at = 0; at < buf.length && !tripped; at += slice) {
      left = parse(buf.subarray(at, at + slice))
      const declared: number = parser.packet?.length ?? -1
      if (declared > maxBytes || left > maxBytes + FIXED_HEADER_MAX) {
        tripped = true
        socket.destroy()
        onViolation(Math.max(declared, left))
      }
    }
    return tripped ? 0 : left
  }
}
