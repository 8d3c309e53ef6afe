import { localTimes } from './alert-text.ts'

export class ApiError extends Error {
  readonly status: number
  readonly code?: string
  constructor(status: number, message: string, code?: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

export async function api<T = unknown>(method: string, url: string, body?: unknown): Promise<T> {
  const res = await fetch(url, {
    method,
    credentials: 'same-origin',
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  })
  if (res.status === 204) return undefined as T
  const data = await res.json().catch(() => ({}))
  // Times in the server's message in the viewer's zone, as everywhere else on the screen.
  if (!res.ok)
    throw new ApiError(res.status, localTimes(data?.error?.message ?? res.statusText), data?.error?.code)
  return data as T
}
