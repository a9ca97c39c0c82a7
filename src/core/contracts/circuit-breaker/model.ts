/**
 * The circuit breaker's data: scopes, the state record (published to Redis as JSON, exactly these
 * fields), transitions, reset requests (four-eyes) and settings. Field names are snake_case
 * because execution services in any language read the published JSON.
 */
import { Schema } from "effect"
import { ActorJson } from "../../audit/entry.ts"

/** A scope's own stored state. */
export const BreakerState = Schema.Literals(["OPEN", "TRIPPED", "QUIET_PERIOD"])
export type BreakerState = typeof BreakerState.Type

/** What a reader is told: `UNKNOWN` when the state cannot be read — treat it as tripped. */
export const ReadState = Schema.Literals(["OPEN", "TRIPPED", "QUIET_PERIOD", "UNKNOWN"])
export type ReadState = typeof ReadState.Type

export const GLOBAL_SCOPE = "global"
/** Path segments under `/api/v1/breaker/` that cannot be scope names. */
export const RESERVED_SCOPES: ReadonlyArray<string> = ["stream", "scopes", "settings", "approvals"]

export const ScopeName = Schema.String.check(
  Schema.makeFilter(
    (s: string) =>
      (/^[a-z0-9][a-z0-9_.-]{0,62}$/.test(s) && !RESERVED_SCOPES.includes(s)) ||
      "must be 1 to 63 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit (and not stream, scopes, settings or approvals)"
  )
)

export const TripSource = Schema.Literals(["manual", "automatic"])
export type TripSource = typeof TripSource.Type

/** Who acted (the audit log's actor, as stored). */
export { ActorJson }

/** The state record of one scope: the truth in PostgreSQL, the copy in Redis. Times are ISO 8601 UTC. */
export const BreakerRecord = Schema.Struct({
  scope: Schema.String,
  state: BreakerState,
  version: Schema.Number,
  tripped_at: Schema.NullOr(Schema.String),
  trip_reason: Schema.NullOr(Schema.String),
  trip_details: Schema.NullOr(Schema.Record(Schema.String, Schema.Unknown)),
  tripped_by: Schema.NullOr(ActorJson),
  trip_source: Schema.NullOr(TripSource),
  reset_at: Schema.NullOr(Schema.String),
  reset_by: Schema.NullOr(ActorJson),
  quiet_until: Schema.NullOr(Schema.String),
  trip_count_today: Schema.Number,
  updated_at: Schema.String
})
export type BreakerRecord = typeof BreakerRecord.Type

/**
 * What `GET /api/v1/breaker[/scope]` answers: the record (fields null when unknown) plus the
 * reading a consumer must obey. `effective_state` is `TRIPPED` for every scope while `global` is
 * tripped; `trading_allowed` is true only for `OPEN` and `QUIET_PERIOD`.
 */
export const BreakerView = Schema.Struct({
  scope: Schema.String,
  state: ReadState,
  effective_state: ReadState,
  trading_allowed: Schema.Boolean,
  halted_by: Schema.NullOr(Schema.String),
  version: Schema.NullOr(Schema.Number),
  tripped_at: Schema.NullOr(Schema.String),
  trip_reason: Schema.NullOr(Schema.String),
  trip_details: Schema.NullOr(Schema.Record(Schema.String, Schema.Unknown)),
  tripped_by: Schema.NullOr(ActorJson),
  trip_source: Schema.NullOr(TripSource),
  reset_at: Schema.NullOr(Schema.String),
  reset_by: Schema.NullOr(ActorJson),
  quiet_until: Schema.NullOr(Schema.String),
  trip_count_today: Schema.NullOr(Schema.Number),
  updated_at: Schema.NullOr(Schema.String),
  /** When this process last confirmed the state (from PostgreSQL or the published copy). */
  as_of: Schema.NullOr(Schema.String),
  /** Why the state is `UNKNOWN`, or a trip waiting to be written to PostgreSQL. */
  warning: Schema.NullOr(Schema.String)
})
export type BreakerView = typeof BreakerView.Type

export const TransitionKind = Schema.Literals([
  "trip",
  "trip_repeated",
  "reset",
  "quiet_period_ended",
  "reset_requested"
])
export type TransitionKind = typeof TransitionKind.Type

/** One entry of a scope's history. */
export const Transition = Schema.Struct({
  id: Schema.String,
  scope: Schema.String,
  kind: TransitionKind,
  from_state: BreakerState,
  to_state: BreakerState,
  version: Schema.Number,
  source: Schema.NullOr(TripSource),
  actor: ActorJson,
  reason: Schema.NullOr(Schema.String),
  details: Schema.Record(Schema.String, Schema.Unknown),
  at: Schema.String
})
export type Transition = typeof Transition.Type

export const ResetRequestStatus = Schema.Literals(["pending", "approved", "expired", "superseded"])

/** A reset waiting for a second operator (when `reset_approvals` is 2). */
export const ResetRequest = Schema.Struct({
  id: Schema.String,
  scope: Schema.String,
  /** The version the reset applies to; a trip in between supersedes the request. */
  base_version: Schema.Number,
  requested_by: ActorJson,
  reason: Schema.String,
  requested_at: Schema.String,
  expires_at: Schema.String,
  status: ResetRequestStatus,
  approved_by: Schema.NullOr(ActorJson),
  approved_at: Schema.NullOr(Schema.String)
})
export type ResetRequest = typeof ResetRequest.Type

export const BreakerSettings = Schema.Struct({
  /** Seconds in QUIET_PERIOD after a reset before the scope is OPEN again. */
  quiet_period_seconds: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 86_400 })),
  /** 1: a reset takes effect at once; 2: a second operator must approve it within 15 minutes. */
  reset_approvals: Schema.Literals([1, 2])
})
export type BreakerSettings = typeof BreakerSettings.Type

export const APPROVAL_WINDOW_MINUTES = 15
export const RESET_INTERVAL_SECONDS = 60
export const MIN_REASON_LENGTH = 20

/** A message on `circuit_breaker:changes` and an event of `GET /api/v1/breaker/stream`. */
export const BreakerChange = Schema.Union([
  Schema.Struct({ type: Schema.Literal("transition"), transition: Transition, record: BreakerRecord }),
  Schema.Struct({ type: Schema.Literal("reset_requested"), request: ResetRequest }),
  Schema.Struct({ type: Schema.Literal("scope_created"), record: BreakerRecord })
])
export type BreakerChange = typeof BreakerChange.Type

/** A trip's or reset's reason: at least 20 characters once trimmed. */
export const Reason = Schema.String.check(
  Schema.makeFilter(
    (s: string) => s.trim().length >= MIN_REASON_LENGTH || `must be at least ${MIN_REASON_LENGTH} characters`
  ),
  Schema.isMaxLength(2000)
)
/** The explicit acknowledgement every manual trip and reset needs. */
export const Acknowledge = Schema.Literal(true).annotate({ message: "must be true: acknowledge the consequences" })
