/**
 * What a reader is told (fail closed): a scope's last confirmed record becomes `UNKNOWN` once it
 * has not been confirmed for {@link UNKNOWN_AFTER_MS}, and every scope reads as tripped while
 * `global` is tripped (as unknown while `global` is unknown).
 */
import {
  type BreakerRecord,
  type BreakerView,
  GLOBAL_SCOPE,
  type ReadState
} from "../../core/contracts/circuit-breaker/model.ts"

/** Confirmed within this long (the verifier confirms every second), or `UNKNOWN`. */
export const UNKNOWN_AFTER_MS = 5_000

export interface Known {
  readonly record: BreakerRecord
  /** When PostgreSQL (or, with it down, the published copy) last confirmed the record. */
  readonly confirmedAt: number
  /** A trip accepted while PostgreSQL was down, not yet written to it. */
  readonly pending: boolean
  /**
   * Why that trip cannot be written (PostgreSQL refused it, not only was down): the scope stays
   * tripped until an operator resets it.
   */
  readonly unsettled?: string
}

const isFresh = (known: Known | undefined, now: number): known is Known =>
  known !== undefined && now - known.confirmedAt <= UNKNOWN_AFTER_MS

export const unknownView = (scope: string, warning: string): BreakerView => ({
  scope,
  state: "UNKNOWN",
  effective_state: "UNKNOWN",
  trading_allowed: false,
  halted_by: null,
  version: null,
  tripped_at: null,
  trip_reason: null,
  trip_details: null,
  tripped_by: null,
  trip_source: null,
  reset_at: null,
  reset_by: null,
  quiet_until: null,
  trip_count_today: null,
  updated_at: null,
  as_of: null,
  warning
})

const staleWarning = (known: Known | undefined, now: number) =>
  known === undefined
    ? "the breaker state has not been read since this process started: treat as tripped"
    : `the breaker state could not be confirmed for ${Math.round((now - known.confirmedAt) / 1000)} s: treat as tripped`

/** The reading of one scope given what is known of it and of `global`. */
export const viewOf = (
  scope: string,
  known: Known | undefined,
  global: Known | undefined,
  now: number
): BreakerView => {
  if (!isFresh(known, now)) return unknownView(scope, staleWarning(known, now))
  const own: ReadState = known.record.state
  const globalState: ReadState = scope === GLOBAL_SCOPE ? own : isFresh(global, now) ? global.record.state : "UNKNOWN"
  const effective: ReadState = globalState === "UNKNOWN" ? "UNKNOWN" : globalState === "TRIPPED" ? "TRIPPED" : own
  const haltedByGlobal = scope !== GLOBAL_SCOPE && (globalState === "TRIPPED" || globalState === "UNKNOWN")
  return {
    ...known.record,
    state: own,
    effective_state: effective,
    trading_allowed: effective === "OPEN" || effective === "QUIET_PERIOD",
    halted_by: haltedByGlobal ? GLOBAL_SCOPE : null,
    as_of: new Date(known.confirmedAt).toISOString(),
    warning:
      known.unsettled !== undefined
        ? `an accepted trip could not be written to the database (${known.unsettled}): the scope stays tripped until an operator resets it`
        : known.pending
          ? "tripped while the database was unreachable: published, and written to the database when it returns"
          : globalState === "UNKNOWN" && scope !== GLOBAL_SCOPE
            ? "the global breaker's state is unknown: treat as tripped"
            : null
  }
}
