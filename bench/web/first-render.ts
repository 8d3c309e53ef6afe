import type { Page } from 'playwright-core'
import { waitComplete } from './collectors.ts'
import { RUNS } from './config.ts'

export interface FirstRender {
  domMs: number
  paintedMs: number
  allRowsMs: number
  rows: number
  apiMs: Record<string, number>
}

// 1. First render, RUNS times (the first one is cold: nothing cached in the browser).
export async function measureFirstRenders(page: Page, url: string): Promise<FirstRender[]> {
  const firstRender: FirstRender[] = []
  for (let r = 0; r < RUNS; r++) {
    if (r === 0) await page.goto(url)
    else await page.reload()
    await waitComplete(page)
    firstRender.push(
      await page.evaluate(() => ({
        domMs: Math.round(performance.getEntriesByName('vw:worklist-rendered')[0].startTime),
        paintedMs: Math.round(performance.getEntriesByName('vw:worklist-painted')[0].startTime),
        allRowsMs: Math.round(performance.getEntriesByName('vw:worklist-complete')[0]?.startTime ?? -1),
        rows: document.querySelectorAll('#worklist .wl-body .wl-row').length,
        // When each API response had fully arrived (ms since navigation start): where the time goes.
        apiMs: Object.fromEntries(
          (performance.getEntriesByType('resource') as PerformanceResourceTiming[])
            .filter((e) => e.name.includes('/api/') || e.name.endsWith('.js'))
            .map((e) => [new URL(e.name).pathname + new URL(e.name).search, Math.round(e.responseEnd)]),
        ),
      })),
    )
  }
  return firstRender
}
