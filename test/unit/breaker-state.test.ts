import { describe, expect, it } from "vitest"
import type { ActorJson } from "../../src/core/contracts/circuit-breaker/model.ts"
import { UNKNOWN_AFTER_MS, viewOf } from "../../src/plugins/circuit-breaker/reading.ts"
import { blankRecord, quietEnded, resetTo, tripped } from "../../src/plugins/circuit-breaker/transitions.ts"

const actor: ActorJson = { type: "user", id: "u1", name: "ann@test.local" }
const trip = { reason: "venue latency above the agreed threshold", source: "manual" as const, actor }
const at = (iso: string) => Date.parse(iso)

describe("breaker transitions", () => {
  it("counts trips per UTC day: the count starts again after midnight", () => {
    const t1 = at("2026-11-22T23:59:00Z")
    const first = tripped(blankRecord("venue", t1), trip, t1, t1)
    const reset = resetTo(first, actor, t1 + 10_000, 0)
    const second = tripped(reset, trip, t1 + 20_000, t1 + 20_000)
    expect([first.trip_count_today, second.trip_count_today]).toEqual([1, 2])
    const t2 = at("2026-11-23T00:00:30Z")
    const third = tripped(resetTo(second, actor, t2 - 1_000, 0), trip, t2, t2)
    expect(third.trip_count_today).toBe(1)
  })

  it("each transition bumps the version by one and keeps the trip's fields where they belong", () => {
    const t = at("2026-11-22T10:00:00Z")
    const a = tripped(blankRecord("venue", t), trip, t, t)
    const b = resetTo(a, actor, t + 60_000, 300)
    const c = quietEnded(b, t + 360_000)
    expect([a.version, b.version, c.version]).toEqual([1, 2, 3])
    expect([a.state, b.state, c.state]).toEqual(["TRIPPED", "QUIET_PERIOD", "OPEN"])
    expect(b.quiet_until).toBe("2026-11-22T10:06:00.000Z")
    expect(c.quiet_until).toBeNull()
    // The last trip stays on the record after the reset, for whoever reads it next.
    expect(c.trip_reason).toBe(trip.reason)
    expect(resetTo(a, actor, t, 0).state).toBe("OPEN")
  })
})

describe("breaker readings (fail closed)", () => {
  const t = at("2026-11-22T10:00:00Z")
  const open = (scope: string) => ({ record: blankRecord(scope, t), confirmedAt: t, pending: false })

  it("turns UNKNOWN once a state has not been confirmed for 5 s", () => {
    expect(viewOf("global", open("global"), open("global"), t + UNKNOWN_AFTER_MS).state).toBe("OPEN")
    const stale = viewOf("global", open("global"), open("global"), t + UNKNOWN_AFTER_MS + 1)
    expect([stale.state, stale.effective_state, stale.trading_allowed]).toEqual(["UNKNOWN", "UNKNOWN", false])
    expect(viewOf("venue", undefined, open("global"), t).state).toBe("UNKNOWN")
  })

  it("reads every scope as tripped while global is tripped, and unknown while global is unknown", () => {
    const global = { record: tripped(blankRecord("global", t), trip, t, t), confirmedAt: t, pending: false }
    const venue = viewOf("venue", open("venue"), global, t)
    expect([venue.state, venue.effective_state, venue.halted_by, venue.trading_allowed]).toEqual([
      "OPEN",
      "TRIPPED",
      "global",
      false
    ])
    const blind = viewOf("venue", open("venue"), undefined, t)
    expect([blind.effective_state, blind.trading_allowed]).toEqual(["UNKNOWN", false])
  })

  it("allows trading in the quiet period", () => {
    const quiet = {
      record: resetTo(tripped(blankRecord("venue", t), trip, t, t), actor, t, 300),
      confirmedAt: t,
      pending: false
    }
    expect(viewOf("venue", quiet, open("global"), t).trading_allowed).toBe(true)
  })
})
