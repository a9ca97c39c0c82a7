/**
 * The Audit Log page's filters as a person gives them: the query API's filters (core's
 * `AuditFilter`), except that `from` and `to` may be wall-clock times of a date-time picker
 * (`2026-11-28T09:30`) read in the time zone `tz` (the viewer's, which the page's script fills
 * in; UTC without it). They become the API's UTC instants here, so the page, its CSV export and
 * `GET /api/v1/audit` run the same query. Pure functions; the route decodes with {@link PageFilter}.
 */
import { Schema } from "effect"
import type { AuditFilter } from "../../core/audit/query.ts"
import { AuditFilter as ApiFilter } from "../../core/audit/query.ts"
import type { Issue } from "../../core/errors/generic.ts"
import { IsoTimestamp } from "../../core/input-schemas.ts"

/** A date-time picker's value: no zone, seconds and milliseconds optional. */
const WALL_CLOCK = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?$/

const isIso = Schema.is(IsoTimestamp)

/** The instant of a UTC calendar time; years below 100 are not shifted to the 1900s. */
const utc = (y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number => {
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, s, ms))
  date.setUTCFullYear(y)
  return date.getTime()
}

/** Whether `tz` is a time zone the runtime knows (`Europe/London`, `UTC`). */
export const isTimeZone = (tz: string): boolean => {
  if (tz.length === 0 || tz.length > 64) return false
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: tz })
    return true
  } catch {
    return false
  }
}

const partsFormat = new Map<string, Intl.DateTimeFormat>()
const formatIn = (tz: string): Intl.DateTimeFormat => {
  let format = partsFormat.get(tz)
  if (format === undefined) {
    format = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      era: "short",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit"
    })
    if (partsFormat.size > 100) partsFormat.clear()
    partsFormat.set(tz, format)
  }
  return format
}

/** How far `tz` is ahead of UTC at the instant `ms`, in milliseconds. */
const offsetAt = (ms: number, tz: string): number => {
  const parts = formatIn(tz).formatToParts(new Date(ms))
  const part = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value ?? "0")
  const bc = parts.find((p) => p.type === "era")?.value === "BC"
  const year = bc ? 1 - part("year") : part("year")
  const wall = utc(year, part("month"), part("day"), part("hour"), part("minute"), part("second"), 0)
  return wall - (ms - (((ms % 1000) + 1000) % 1000))
}

/** The instant a wall-clock time in `tz` names (in a gap or overlap of a clock change: the later reading). */
export const wallClockToInstant = (wall: string, tz: string): number | undefined => {
  const m = WALL_CLOCK.exec(wall)
  if (m === null) return undefined
  const [, y, mo, d, h, mi, s, ms] = m
  const asUtc = utc(
    Number(y),
    Number(mo),
    Number(d),
    Number(h),
    Number(mi),
    Number(s ?? 0),
    Number((ms ?? "0").padEnd(3, "0"))
  )
  const check = new Date(asUtc)
  // 2026-02-31 is not a date.
  if (check.getUTCDate() !== Number(d) || check.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23 || Number(mi) > 59)
    return undefined
  const guess = asUtc - offsetAt(asUtc, tz)
  return asUtc - offsetAt(guess, tz)
}

const pad = (n: number, width = 2) => String(n).padStart(width, "0")

/** What a date-time picker shows for an instant, in `tz` (seconds only when there are some). */
export const instantToWallClock = (instant: number, tz: string): string => {
  const shifted = new Date(instant + offsetAt(instant, tz))
  const base = `${pad(shifted.getUTCFullYear(), 4)}-${pad(shifted.getUTCMonth() + 1)}-${pad(shifted.getUTCDate())}T${pad(shifted.getUTCHours())}:${pad(shifted.getUTCMinutes())}`
  return shifted.getUTCSeconds() === 0 ? base : `${base}:${pad(shifted.getUTCSeconds())}`
}

const FilterTime = Schema.String.check(
  Schema.makeFilter(
    (s: string) =>
      (WALL_CLOCK.test(s) && wallClockToInstant(s, "UTC") !== undefined) ||
      isIso(s) ||
      "must be a date and time such as 2026-11-28T09:30",
    { title: "date-time" }
  )
)

const TimeZone = Schema.String.check(
  Schema.makeFilter((s: string) => isTimeZone(s) || "must be a time zone such as Europe/London or UTC", {
    title: "time zone"
  })
)

/** The page's query: the API's filters, with wall-clock `from`/`to` and their time zone. */
export const PageFilter = Schema.Struct({
  ...ApiFilter.fields,
  from: Schema.optionalKey(FilterTime),
  to: Schema.optionalKey(FilterTime),
  /** The IANA time zone of wall-clock `from` and `to`; UTC when absent. */
  tz: Schema.optionalKey(TimeZone)
})
export type PageFilter = typeof PageFilter.Type

const MIN_INSTANT = utc(1, 1, 1, 0, 0, 0, 0)
const MAX_INSTANT = utc(9999, 12, 31, 23, 59, 59, 999)

/** The instant a `from`/`to` value names: a wall-clock time in `tz`, or an ISO time with its own zone. */
const instantOf = (value: string, tz: string): number | undefined => {
  if (WALL_CLOCK.test(value)) return wallClockToInstant(value, tz)
  const ms = Date.parse(value)
  return Number.isNaN(ms) ? undefined : ms
}

export type Converted =
  | { readonly _tag: "Filter"; readonly filter: AuditFilter }
  | { readonly _tag: "Invalid"; readonly issues: ReadonlyArray<Issue> }

/** The API's filter for a decoded page filter; `from` after `to`, or out of range, is an issue of its field. */
export const toAuditFilter = (page: PageFilter): Converted => {
  const { tz, from, to, ...rest } = page
  const zone = tz ?? "UTC"
  const issues: Array<Issue> = []
  const instant = (field: "from" | "to", value: string | undefined): number | undefined => {
    if (value === undefined) return undefined
    const ms = instantOf(value, zone)
    if (ms === undefined || ms < MIN_INSTANT || ms > MAX_INSTANT) {
      issues.push({ path: field, message: "must be a date and time between the years 0001 and 9999" })
      return undefined
    }
    return ms
  }
  const fromMs = instant("from", from)
  const toMs = instant("to", to)
  if (fromMs !== undefined && toMs !== undefined && toMs <= fromMs)
    issues.push({ path: "to", message: "must be later than From" })
  if (issues.length > 0) return { _tag: "Invalid", issues }
  return {
    _tag: "Filter",
    filter: {
      ...rest,
      ...(fromMs === undefined ? {} : { from: new Date(fromMs).toISOString() }),
      ...(toMs === undefined ? {} : { to: new Date(toMs).toISOString() })
    }
  }
}

/** The pickers' values for a valid filter: each instant as the wall-clock time in the filter's zone. */
export const pickerValues = (
  page: PageFilter,
  filter: AuditFilter
): { readonly from?: string; readonly to?: string } => {
  const zone = page.tz ?? "UTC"
  return {
    ...(filter.from === undefined ? {} : { from: instantToWallClock(Date.parse(filter.from), zone) }),
    ...(filter.to === undefined ? {} : { to: instantToWallClock(Date.parse(filter.to), zone) })
  }
}
