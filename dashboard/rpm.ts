// RPM device days (CMS 99454 / 99445): distinct calendar days with at least one device reading in the
// current 30-day period, counted on the patient's calendar.
//
// Which calendar: a reading keeps the UTC offset its device wrote (shared/fhir.ts), but a device that
// sends epoch milliseconds or no time at all gives UTC, which says nothing about where the patient is.
// Mixing the two put one local day on two dates. So every reading is dated with one offset: that of the
// patient's most recent reading that states one (UTC when none does). The period is today and the 29
// days before it on that calendar, not a rolling 30 x 24 h, which could touch 31 dates.

const DAY_MS = 86_400_000

/** How far back to read so that every reading of the period is seen, whatever the offset. */
export const RPM_LOOKBACK_MS = 31 * DAY_MS

/** The UTC offset, in minutes, an ISO date-time states; undefined for 'Z' (or none). */
function statedOffsetMinutes(effective: string): number | undefined {
  const m = /([+-])(\d{2}):(\d{2})$/.exec(effective)
  return m ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) : undefined
}

const QUARTER_MS = 15 * 60_000

/**
 * Counts as readings are added (any order), keeping only the quarter hours that had one (at most 2,976
 * for 31 days, however many readings): UTC offsets are whole quarter hours, so a quarter hour falls on
 * one local date.
 */
export function createRpmDays() {
  const quarters = new Set<number>()
  let stated: { atMs: number; offsetMs: number } | undefined
  return {
    add(o: { effective: string; effectiveMs: number }) {
      quarters.add(Math.floor(o.effectiveMs / QUARTER_MS))
      const offset = statedOffsetMinutes(o.effective)
      if (offset !== undefined && (!stated || o.effectiveMs >= stated.atMs))
        stated = { atMs: o.effectiveMs, offsetMs: offset * 60_000 }
    },
    /** Days with a reading among today and the 29 days before it, on the patient's calendar. */
    count(nowMs: number): number {
      const offsetMs = stated?.offsetMs ?? 0
      const date = (ms: number) => new Date(ms + offsetMs).toISOString().slice(0, 10)
      const last = date(nowMs)
      const first = date(nowMs - 29 * DAY_MS)
      const days = new Set<string>()
      for (const q of quarters) {
        const d = date(q * QUARTER_MS)
        if (d >= first && d <= last) days.add(d)
      }
      return days.size
    },
  }
}
