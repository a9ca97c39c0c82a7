/**
 * When the daily retention run happens: at a fixed hour, UTC (off-peak, `RETENTION_HOUR_UTC`).
 * Pure arithmetic on milliseconds since the epoch, so the fiber's timing is tested without waiting.
 */

export const HOUR_MS = 3_600_000
export const DAY_MS = 24 * HOUR_MS

/** The latest `hourUtc`:00 UTC at or before `now`. */
export const slotAtOrBefore = (now: number, hourUtc: number): number => {
  const today = Math.floor(now / DAY_MS) * DAY_MS + hourUtc * HOUR_MS
  return today <= now ? today : today - DAY_MS
}

/**
 * The slot to run next: the last one while its window is still open (a replica restarted just
 * after the hour catches up, and the slot record keeps that to one run), otherwise the next one.
 */
export const slotToRun = (now: number, hourUtc: number, windowMs: number): number => {
  const last = slotAtOrBefore(now, hourUtc)
  return now < last + windowMs ? last : last + DAY_MS
}
