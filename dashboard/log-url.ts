import type { FastifyRequest } from 'fastify'

// What the request log says about a request. A raw URL carries patient ids in its path
// (/api/patients/MRN-1234) and query (?patient=...): identifiers that, with a time and an address, say who
// is monitored and who looked, and the request log is not access-controlled as the audit log is. So
// the log names the route's pattern ("/api/patients/:id") and only the names of the query's parameters;
// the audit log (docs/api.md "Audit") keeps who read which patient.

export function loggedUrl(req: Pick<FastifyRequest, 'url'> & { routeOptions?: { url?: string } }): string {
  const q = req.url.indexOf('?')
  const keys =
    q < 0
      ? ''
      : `?${[...new URLSearchParams(req.url.slice(q + 1)).keys()]
          .filter((k, i, all) => all.indexOf(k) === i)
          .map((k) => `${encodeURIComponent(k)}=…`)
          .join('&')}`
  const pattern = req.routeOptions?.url
  if (pattern && !pattern.includes('*')) return `${pattern}${keys}`
  // No route, or the wildcard (the web UI's files, and every 404): the first two segments, the rest elided.
  const segments = (q < 0 ? req.url : req.url.slice(0, q)).split('/')
  const kept = segments.slice(0, 3).join('/')
  return `${kept}${segments.length > 3 ? '/…' : ''}${keys}`
}

/** The pino serializer for `req` in the dashboard's log lines. */
export function requestSerializer(req: FastifyRequest) {
  return { method: req.method, url: loggedUrl(req), remoteAddress: req.ip }
}
