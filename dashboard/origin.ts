import type { FastifyRequest } from 'fastify'

// Which page a browser request comes from. The session cookie is SameSite=Strict, but a page on
// another port or subdomain of the same site is still "same site", and its requests carry the cookie:
// a form or a body-less fetch from there could acknowledge or resolve an alert in the clinician's
// name. A browser names the page's origin on every request that changes something (and on WebSocket
// upgrades), so those are accepted only from the dashboard's own origin. Compared by host and port, as
// the browser addressed the server (a TLS proxy in front changes the scheme; it must pass the Host
// header through). Programs (curl, integrations with a token) send no Origin and are not concerned.

/** host[:port] of an Origin header, as a Host header writes it; undefined if it is not a URL. */
function hostOf(origin: string): string | undefined {
  try {
    return new URL(origin).host
  } catch {
    return undefined
  }
}

/** The foreign Origin a browser sent with this request, if it came from another page's origin. */
export function foreignOrigin(req: FastifyRequest): string | undefined {
  const origin = req.headers.origin
  if (origin === undefined) return undefined
  return hostOf(origin) === req.headers.host ? undefined : origin
}
