/** The Audit Log page's time filters (src/plugins/audit-log/filters.ts): wall-clock times in a zone. */
import { Schema } from "effect"
import { describe, expect, it } from "vitest"
import {
  instantToWallClock,
  isTimeZone,
  PageFilter,
  toAuditFilter,
  wallClockToInstant
} from "../../src/plugins/audit-log/filters.ts"

const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())

describe("audit filters in the viewer's time zone", () => {
  it("reads a wall-clock time in a zone, across summer time", () => {
    expect(iso(wallClockToInstant("2026-01-15T12:00", "Europe/Berlin"))).toBe("2026-01-15T11:00:00.000Z")
    expect(iso(wallClockToInstant("2026-07-15T12:00", "Europe/Berlin"))).toBe("2026-07-15T10:00:00.000Z")
    expect(iso(wallClockToInstant("2026-07-15T12:00:30", "America/New_York"))).toBe("2026-07-15T16:00:30.000Z")
    expect(iso(wallClockToInstant("2026-03-29T01:59", "Europe/London"))).toBe("2026-03-29T01:59:00.000Z")
    expect(iso(wallClockToInstant("2026-03-29T03:00", "Europe/London"))).toBe("2026-03-29T02:00:00.000Z")
    expect(iso(wallClockToInstant("2026-11-28T09:30", "UTC"))).toBe("2026-11-28T09:30:00.000Z")
    expect(iso(wallClockToInstant("0001-01-01T00:00", "UTC"))).toBe("0001-01-01T00:00:00.000Z")
  })

  it("refuses what is not a date", () => {
    expect(wallClockToInstant("2026-02-30T10:00", "UTC")).toBeUndefined()
    expect(wallClockToInstant("2026-01-01T24:00", "UTC")).toBeUndefined()
    expect(wallClockToInstant("yesterday", "UTC")).toBeUndefined()
  })

  it("writes an instant as a picker shows it, in a zone", () => {
    expect(instantToWallClock(Date.parse("2026-07-15T10:00:00Z"), "Europe/Berlin")).toBe("2026-07-15T12:00")
    expect(instantToWallClock(Date.parse("2026-07-15T10:00:05Z"), "UTC")).toBe("2026-07-15T10:00:05")
  })

  it("knows time zones", () => {
    expect(isTimeZone("Europe/London")).toBe(true)
    expect(isTimeZone("UTC")).toBe(true)
    expect(isTimeZone("Mars/Olympus")).toBe(false)
    expect(isTimeZone("")).toBe(false)
  })

  it("turns the page's filter into the API's, naming the field of each problem", () => {
    const decode = Schema.decodeUnknownSync(PageFilter)
    expect(toAuditFilter(decode({ from: "2026-01-15T12:00", tz: "Europe/Berlin", actor: "u1" }))).toEqual({
      _tag: "Filter",
      filter: { actor: "u1", from: "2026-01-15T11:00:00.000Z" }
    })
    expect(toAuditFilter(decode({ from: "2026-01-02T00:00", to: "2026-01-01T00:00" }))).toEqual({
      _tag: "Invalid",
      issues: [{ path: "to", message: "must be later than From" }]
    })
    expect(toAuditFilter(decode({ from: "0001-01-01T00:30", tz: "Asia/Tokyo" }))._tag).toBe("Invalid")
    expect(() => decode({ tz: "Mars/Olympus" })).toThrow(/time zone/)
    expect(() => decode({ from: "soon" })).toThrow(/date and time/)
  })
})
