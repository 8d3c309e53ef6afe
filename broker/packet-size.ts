import type { Socket } from 'node:net'
import type { Client } from 'aedes'

// Maximum MQTT packet size. Aedes has no such limit: its mqtt-packet parser buffers a whole packet
// before emitting it, so a client announcing a 256 MB remaining length would make us buffer 256 MB.
// After each parse we read the length the parser has decoded from the fixed header
// ([MQTT-2.2.3] Remaining Length) and drop the connection as soon as it exceeds the limit.
// This reads mqtt-packet's `packet.length` and `_list`; broker/packet-size.int.test.ts pins it.

const FIXED_HEADER_MAX = 5

export function guardPacketSize(client: Client, socket: Socket, maxBytes: number) {
  const parser = (client as any)._parser
  if (!parser || typeof parser.parse !== 'function') {
    throw new Error('aedes internals changed: cannot enforce the MQTT packet size limit')
  }
  const parse = parser.parse.bind(parser)
  parser.parse = (buf: Buffer) => {
    const left = parse(buf)
    const declared: number = parser.packet?.length ?? -1
    if (declared > maxBytes || left > maxBytes + FIXED_HEADER_MAX) {
      socket.destroy()
      return 0
    }
    return left
  }
}
