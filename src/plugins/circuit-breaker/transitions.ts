/**
 * The state machine as pure functions from a record to the next record. Each bumps the version
 * by one; the caller writes it with compare-and-set on the version it read.
 */
import type { ActorJson, BreakerRecord, TripSource } from "../../core/contracts/circuit-breaker/model.ts"
import { utcDay } from "./store.ts"

const iso = (millis: number) => new Date(millis).toISOString()

/** Trips counted on the UTC day of `now`: the stored count only if it was counted today. */
const tripsToday = (record: BreakerRecord, now: number) =>
  record.updated_at.slice(0, 10) === utcDay(now) ? record.trip_count_today : 0

export interface TripFields {
  readonly reason: string
  readonly details?: Readonly<Record<string, unknown>> | undefined
  readonly source: TripSource
  readonly actor: ActorJson
}

/** OPEN or QUIET_PERIOD → TRIPPED at `at` (the time the trip was accepted). */
export const tripped = (before: BreakerRecord, trip: TripFields, at: number, now: number): BreakerRecord => ({
  ...before,
  state: "TRIPPED",
  version: before.version + 1,
  tripped_at: iso(at),
  trip_reason: trip.reason,
  trip_details: { ...trip.details },
  tripped_by: trip.actor,
  trip_source: trip.source,
  quiet_until: null,
  trip_count_today: tripsToday(before, now) + 1,
  updated_at: iso(now)
})

/** TRIPPED → QUIET_PERIOD (or straight to OPEN when the quiet period is 0). */
export const resetTo = (before: BreakerRecord, actor: ActorJson, now: number, quietSeconds: number): BreakerRecord => ({
  ...before,
  state: quietSeconds > 0 ? "QUIET_PERIOD" : "OPEN",
  version: before.version + 1,
  reset_at: iso(now),
  reset_by: actor,
  quiet_until: quietSeconds > 0 ? iso(now + quietSeconds * 1000) : null,
  trip_count_today: tripsToday(before, now),
  updated_at: iso(now)
})

/** QUIET_PERIOD → OPEN once `quiet_until` has passed. */
export const quietEnded = (before: BreakerRecord, now: number): BreakerRecord => ({
  ...before,
  state: "OPEN",
  version: before.version + 1,
  quiet_until: null,
  trip_count_today: tripsToday(before, now),
  updated_at: iso(now)
})

/** A scope's record before anything is known of it (the base of a trip taken with no database). */
export const blankRecord = (scope: string, now: number): BreakerRecord => ({
  scope,
  state: "OPEN",
  version: 0,
  tripped_at: null,
  trip_reason: null,
  trip_details: null,
  tripped_by: null,
  trip_source: null,
  reset_at: null,
  reset_by: null,
  quiet_until: null,
  trip_count_today: 0,
  updated_at: iso(now)
})
