// A tiny JSON client for the API tests: keeps a cookie jar per caller, or sends a Bearer token.
export interface Caller {
  name: string
  cookie?: string
  token?: string
}

export interface ApiResponse {
  status: number
  headers: Headers
  text: string
  body: any
}

export async function call(
  baseUrl: string,
  who: Caller | undefined,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiResponse> {
  const headers: Record<string, string> = {}
  if (body !== undefined) headers['content-type'] = 'application/json'
  if (who?.cookie) headers.cookie = who.cookie
  if (who?.token) headers.authorization = `Bearer ${who.token}`
  const res = await fetch(`${baseUrl}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await res.text()
  let parsed: unknown
  try {
    parsed = text ? JSON.parse(text) : undefined
  } catch {
    parsed = undefined
  }
  return { status: res.status, headers: res.headers, text, body: parsed }
}

export function cookieOf(res: { headers: Headers }): string {
  return res.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ')
}

/** Resolve once `check` returns true, polling; for state that settles asynchronously (batched audit). */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}
