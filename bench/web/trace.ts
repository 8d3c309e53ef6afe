/** Renderer main-thread tasks in a trace: how many exceed 50 ms of wall and of CPU time, and the heaviest. */
export function mainThreadTasks(trace: any) {
  const ev: any[] = trace.traceEvents ?? trace
  const threads = ev.filter((e) => e.name === 'thread_name' && e.args.name === 'CrRendererMain')
  const count = (t: any) => ev.filter((e) => e.pid === t.pid && e.tid === t.tid).length
  const main = threads.sort((a, b) => count(b) - count(a))[0]
  const mine = ev
    .filter((e) => e.pid === main?.pid && e.tid === main?.tid && e.ph === 'X' && e.dur !== undefined)
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur)
  const tasks = mine.filter((e) => e.name === 'RunTask')
  const cpu = (e: any) => (e.tdur ?? 0) / 1000
  const top = [...tasks].sort((a, b) => cpu(b) - cpu(a))[0]
  const self = top ? selfCpuByName(mine, top, cpu) : new Map<string, number>()
  return {
    overWall: tasks.filter((t) => t.dur > 50_000).length,
    overCpu: tasks.filter((t) => cpu(t) > 50).length,
    heaviest: top && {
      cpuMs: Math.round(cpu(top)),
      wallMs: Math.round(top.dur / 1000),
      consistsOf: [...self]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 6)
        .map(([k, ms]) => `${k} ${ms.toFixed(1)} ms`),
    },
  }
}

// Self CPU time by event name inside the heaviest task (what it consists of).
function selfCpuByName(mine: any[], top: any, cpu: (e: any) => number) {
  const self = new Map<string, number>()
  const stack: any[] = []
  const close = (e: any) => self.set(e.name, (self.get(e.name) ?? 0) + e.selfMs)
  for (const e of mine.filter((x) => x.ts >= top.ts && x.ts + x.dur <= top.ts + top.dur)) {
    while (stack.length && stack.at(-1).ts + stack.at(-1).dur <= e.ts) close(stack.pop())
    e.selfMs = cpu(e)
    if (stack.length) stack.at(-1).selfMs -= cpu(e)
    stack.push(e)
  }
  while (stack.length) close(stack.pop())
  return self
}
