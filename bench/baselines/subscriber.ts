import { DatabaseSync } from 'node:sqlite'
import mqtt from 'mqtt'
import { z } from 'zod'
import type { SocketClientOptions } from '../../simulators/connection.ts'

// The subscriber a team would write next to Mosquitto, run as its own process:
//   noop: counts what Mosquitto delivers (the raw relay ceiling);
//   diy:  validates each message with zod and writes it to SQLite (WAL, synchronous=FULL), one
//         transaction per message - the straightforward DIY pipeline.
// Reports its counts to the parent over IPC.

const [url, caFile, mode, dbPath] = process.argv.slice(2)

const readingSchema = z.object({
  id: z.string().min(1).max(128),
  type: z.string().min(1),
  ts: z.union([z.string(), z.number()]).optional(),
  value: z.union([z.number(), z.string()]).optional(),
  systolic: z.number().optional(),
  diastolic: z.number().optional(),
  unit: z.string().optional(),
  battery: z.number().min(0).max(100).optional(),
})

let insert: ((topic: string, r: z.infer<typeof readingSchema>) => void) | undefined
if (mode === 'diy') {
  const db = new DatabaseSync(dbPath)
  db.exec('PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;')
  db.exec(
    'CREATE TABLE IF NOT EXISTS readings (device TEXT, id TEXT, type TEXT, ts TEXT, body TEXT, PRIMARY KEY (device, id))',
  )
  const stmt = db.prepare(
    'INSERT OR IGNORE INTO readings (device, id, type, ts, body) VALUES (?, ?, ?, ?, ?)',
  )
  insert = (topic, r) => {
    stmt.run(topic.split('/')[3], r.id, r.type, String(r.ts ?? ''), JSON.stringify(r))
  }
}

const fs = await import('node:fs')
const options: SocketClientOptions = {
  ca: fs.readFileSync(caFile, 'utf8'),
  clientId: `bench-subscriber-${process.pid}`,
  protocolVersion: 4,
  clean: true,
  reconnectPeriod: 0,
  // Nagle off, like the simulated devices (simulators/connection.ts): its PUBACKs go out at once.
  noDelay: true,
}
const client = await mqtt.connectAsync(url, options)
let received = 0
let stored = 0
let invalid = 0
let lastAtMs = 0
client.on('message', (topic, payload) => {
  received++
  lastAtMs = Date.now()
  if (!insert) return
  try {
    const r = readingSchema.safeParse(JSON.parse(String(payload)))
    if (!r.success) {
      invalid++
      return
    }
    insert(topic, r.data)
    stored++
  } catch {
    invalid++
  }
})
await client.subscribeAsync('rpm/v1/devices/+/readings', { qos: 1 })
const report = () => process.send?.({ received, stored, invalid, lastAtMs })
process.on('message', (m) => {
  if (m === 'report') report()
  if (m === 'stop') void client.endAsync().then(() => process.exit(0))
})
report()
