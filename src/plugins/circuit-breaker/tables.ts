/**
 * The breaker's tables (migration 0004) and the query builder that knows them: core's `db`
 * extended with these tables for the breaker's stores only, so core names none of them. The
 * compare-and-set and the one-statement trip are hand-written SQL (`store.ts`). Times are written
 * as ISO strings from the Effect clock, versions as numbers and JSON columns as JSON text; the
 * stores decode what they read with Schema.
 */
import type { ColumnType, Generated } from "kysely"
import { db as coreDb } from "../../core/db/query.ts"

export interface BreakerScopeTable {
  readonly scope: string
  readonly state: "OPEN" | "TRIPPED" | "QUIET_PERIOD"
  readonly version: ColumnType<string, number, number>
  readonly tripped_at: ColumnType<Date | null, string | null, string | null>
  readonly trip_reason: string | null
  readonly trip_details: ColumnType<unknown, string | null, string | null>
  readonly tripped_by: ColumnType<unknown, string | null, string | null>
  readonly trip_source: "manual" | "automatic" | null
  readonly reset_at: ColumnType<Date | null, string | null, string | null>
  readonly reset_by: ColumnType<unknown, string | null, string | null>
  readonly quiet_until: ColumnType<Date | null, string | null, string | null>
  readonly trip_count_today: Generated<number>
  /** A `date`: read it as text (`trip_count_day::text`), so no time zone shifts the day. */
  readonly trip_count_day: ColumnType<string | null, string | null, string | null>
  readonly created_at: ColumnType<Date, string | undefined, string>
  readonly updated_at: ColumnType<Date, string | undefined, string>
}

export interface BreakerTransitionTable {
  readonly id: Generated<string>
  readonly scope: string
  readonly kind: "trip" | "trip_repeated" | "reset" | "quiet_period_ended" | "reset_requested"
  readonly from_state: string
  readonly to_state: string
  readonly version: ColumnType<string, number, number>
  readonly source: "manual" | "automatic" | null
  readonly actor: ColumnType<unknown, string, string>
  readonly reason: string | null
  readonly details: ColumnType<unknown, string | undefined, string>
  readonly at: ColumnType<Date, string, string>
}

export interface BreakerResetRequestTable {
  readonly id: string
  readonly scope: string
  readonly base_version: ColumnType<string, number, number>
  readonly requested_by: ColumnType<unknown, string, string>
  readonly reason: string
  readonly requested_at: ColumnType<Date, string, string>
  readonly expires_at: ColumnType<Date, string, string>
  readonly status: "pending" | "approved" | "expired" | "superseded"
  readonly approved_by: ColumnType<unknown, string | null, string | null>
  readonly approved_at: ColumnType<Date | null, string | null, string | null>
}

type BreakerTables = {
  readonly breaker_scope: BreakerScopeTable
  readonly breaker_transition: BreakerTransitionTable
  readonly breaker_reset_request: BreakerResetRequestTable
}

/** Builds the breaker's queries (compiles only; `run` from `core/db/query.ts` executes them). */
export const db = coreDb.withTables<BreakerTables>()
