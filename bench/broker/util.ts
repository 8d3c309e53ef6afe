// Small helpers shared by the broker benchmark's phases.

export const kib = (bytes: number) => Math.round((bytes / 1024) * 10) / 10

export async function untilTrue(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`)
    await new Promise((r) => setTimeout(r, 100))
  }
}
