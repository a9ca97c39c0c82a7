/**
 * The breaker's SQL: scope rows (the truth) and the transition history (reset requests are in
 * reset-request-store.ts, column codecs in store-codecs.ts).
 * Times come from the caller (the Effect clock), so tests drive them with TestClock.
 *
 * Rows are decoded with Schema here, into the contract types. The tables' CHECKs and this store's
 * own writes shape every row, so one that does not decode is a bug: a defect that names the table
 * (and, through the issue's path, the field), never a silent cast. Plain reads and writes are typed
 * Kysely queries; hand-written SQL is kept for the compare-and-set and the one-statement trip.
 */
import { Effect, Schema, Struct } from "effect"
import { SqlClient, type SqlError, SqlSchema } from "effect/sql"
import { AUDIT_INSERT_COLUMNS, AUDIT_RECORDSET } from "../../core/audit/store.ts"
import {
  ActorJson,
  BreakerRecord,
  BreakerState,
  GLOBAL_SCOPE,
  Transition,
  TransitionKind,
  TripSource
} from "../../core/contracts/circuit-breaker/model.ts"
import { run } from "../../core/db/query.ts"

const client = SqlClient.SqlClient

/** The UTC calendar day of a time, as PostgreSQL's `date` prints it. */
export const utcDay = (millis: number) => new Date(millis).toISOString().slice(0, 10)

import {
  BigIntId,
  BigIntNumber,
  NullableDetails,
  NullableTimestamp,
  noRowDefect,
  ShownDetails,
  schemaDefect,
  Timestamp
} from "./store-codecs.ts"
import { db } from "./tables.ts"

// breaker_scope

/** A scope row; `trip_count_day` is selected as text (`YYYY-MM-DD`): no time-zone conversion of a calendar day. */
const ScopeRow = Schema.Struct({
  scope: Schema.String,
  state: BreakerState,
  version: BigIntNumber,
  tripped_at: NullableTimestamp,
  trip_reason: Schema.NullOr(Schema.String),
  trip_details: NullableDetails,
  tripped_by: Schema.NullOr(ActorJson),
  trip_source: Schema.NullOr(TripSource),
  reset_at: NullableTimestamp,
  reset_by: Schema.NullOr(ActorJson),
  quiet_until: NullableTimestamp,
  trip_count_today: Schema.Int,
  trip_count_day: Schema.NullOr(Schema.String),
  updated_at: Timestamp
})
type ScopeRow = typeof ScopeRow.Type

/**
 * A stored row as the record; `trip_count_today` is 0 on any other UTC day than `now`'s. Built
 * field by field in the contract's order: the published JSON is compared as text.
 */
const toRecord = (row: ScopeRow, now: number): BreakerRecord => ({
  scope: row.scope,
  state: row.state,
  version: row.version,
  tripped_at: row.tripped_at,
  trip_reason: row.trip_reason,
  trip_details: row.trip_details,
  tripped_by: row.tripped_by,
  trip_source: row.trip_source,
  reset_at: row.reset_at,
  reset_by: row.reset_by,
  quiet_until: row.quiet_until,
  trip_count_today: row.trip_count_day === utcDay(now) ? row.trip_count_today : 0,
  updated_at: row.updated_at
})

const SCOPE_COLUMNS = [
  "scope",
  "state",
  "version",
  "tripped_at",
  "trip_reason",
  "trip_details",
  "tripped_by",
  "trip_source",
  "reset_at",
  "reset_by",
  "quiet_until",
  "trip_count_today",
  "updated_at"
] as const

const selectScopes = db
  .selectFrom("breaker_scope")
  .select(SCOPE_COLUMNS)
  .select((eb) => eb.cast<string | null>("trip_count_day", "text").as("trip_count_day"))

const scopesAll = SqlSchema.findAll({
  Request: Schema.Void,
  Result: ScopeRow,
  execute: () => run(selectScopes.orderBy((eb) => eb("scope", "=", GLOBAL_SCOPE), "desc").orderBy("scope", "asc"))
})

/** Every scope, `global` first (the verifier reads them all every second). */
export const readScopes = (
  now: number
): Effect.Effect<ReadonlyArray<BreakerRecord>, SqlError.SqlError, SqlClient.SqlClient> =>
  scopesAll(undefined).pipe(
    Effect.map((rows) => rows.map((r) => toRecord(r, now))),
    Effect.catchTag("SchemaError", schemaDefect("breaker_scope"))
  )

const scopesNamed = SqlSchema.findAll({
  Request: Schema.Array(Schema.String),
  Result: ScopeRow,
  // `= ANY($1)`: one array parameter, so the statement text does not vary with the count.
  execute: (scopes) => run(selectScopes.where("scope", "=", (eb) => eb.fn.any(eb.val(scopes))))
})

/** The records of the named scopes (those that exist), in no particular order. */
export const readScopesNamed = (scopes: ReadonlyArray<string>, now: number) =>
  scopesNamed(scopes).pipe(
    Effect.map((rows) => rows.map((r) => toRecord(r, now))),
    Effect.catchTag("SchemaError", schemaDefect("breaker_scope"))
  )

const scopeOne = SqlSchema.findOneOption({
  Request: Schema.Struct({ scope: Schema.String, lock: Schema.Boolean }),
  Result: ScopeRow,
  execute: ({ scope, lock }) => run(selectScopes.where("scope", "=", scope).$if(lock, (q) => q.forUpdate()))
})

/** One scope's record; with `lock`, its row stays locked for the rest of the transaction. */
export const readScope = (scope: string, now: number, lock = false) =>
  scopeOne({ scope, lock }).pipe(
    Effect.map((row) => (row._tag === "Some" ? toRecord(row.value, now) : undefined)),
    Effect.catchTag("SchemaError", schemaDefect("breaker_scope"))
  )

/**
 * Hand-written, shared by {@link compareAndSet} and {@link tripInOneStatement}: one mapping of a
 * record to the columns for both, and the trip needs it inside a data-modifying CTE anyway.
 */
const SET_RECORD = `state = $2, version = $3, tripped_at = $4, trip_reason = $5, trip_details = $6::jsonb,
  tripped_by = $7::jsonb, trip_source = $8, reset_at = $9, reset_by = $10::jsonb, quiet_until = $11,
  trip_count_today = $12, trip_count_day = $13::date, updated_at = $14`

/** $1…$14 of {@link SET_RECORD}, then the expected version as $15. */
const recordParams = (record: BreakerRecord, expected: number): Array<unknown> => [
  record.scope,
  record.state,
  record.version,
  record.tripped_at,
  record.trip_reason,
  record.trip_details === null ? null : JSON.stringify(record.trip_details),
  record.tripped_by === null ? null : JSON.stringify(record.tripped_by),
  record.trip_source,
  record.reset_at,
  record.reset_by === null ? null : JSON.stringify(record.reset_by),
  record.quiet_until,
  record.trip_count_today,
  record.updated_at.slice(0, 10),
  record.updated_at,
  expected
]

const ExpectedWrite = Schema.Struct({ record: BreakerRecord, expected: Schema.Int })

const casUpdate = SqlSchema.findAll({
  Request: ExpectedWrite,
  Result: Schema.Struct({ scope: Schema.String }),
  // Hand-written: the compare-and-set on the version, with the SET the one-statement trip shares.
  execute: ({ record, expected }) =>
    Effect.flatMap(client, (sql) =>
      sql.unsafe(
        `UPDATE breaker_scope SET ${SET_RECORD} WHERE scope = $1 AND version = $15 RETURNING scope`,
        recordParams(record, expected)
      )
    )
})

/**
 * Writes a record over the stored one if its version is still `expected` (compare-and-set).
 * Returns false when another change won.
 */
export const compareAndSet = (record: BreakerRecord, expected: number) =>
  casUpdate({ record, expected }).pipe(
    Effect.map((rows) => rows.length === 1),
    Effect.catchTag("SchemaError", schemaDefect("breaker_scope"))
  )

const scopeInsert = SqlSchema.findOne({
  Request: Schema.Struct({ scope: Schema.String, at: Schema.String }),
  Result: ScopeRow,
  execute: ({ scope, at }) =>
    run(
      db
        .insertInto("breaker_scope")
        .values({ scope, state: "OPEN", version: 1, created_at: at, updated_at: at })
        .returning(SCOPE_COLUMNS)
        .returning((eb) => eb.cast<string | null>("trip_count_day", "text").as("trip_count_day"))
    )
})

export const insertScope = (scope: string, now: number) =>
  scopeInsert({ scope, at: new Date(now).toISOString() }).pipe(
    Effect.map((row) => toRecord(row, now)),
    Effect.catchTag("SchemaError", schemaDefect("breaker_scope")),
    Effect.catchTag("NoSuchElementError", noRowDefect("breaker_scope"))
  )

// breaker_transition

/** A transition row, decoded into the contract's {@link Transition}. */
const TransitionRow = Schema.Struct({
  id: BigIntId,
  scope: Schema.String,
  kind: TransitionKind,
  from_state: BreakerState,
  to_state: BreakerState,
  version: BigIntNumber,
  source: Schema.NullOr(TripSource),
  actor: ActorJson,
  reason: Schema.NullOr(Schema.String),
  details: ShownDetails,
  at: Timestamp
})

const TRANSITION_COLUMNS = [
  "id",
  "scope",
  "kind",
  "from_state",
  "to_state",
  "version",
  "source",
  "actor",
  "reason",
  "details",
  "at"
] as const

/** A transition to append: everything but the id the database gives it. */
export const NewTransition = Transition.mapFields(Struct.omit(["id"]))
export type NewTransition = typeof NewTransition.Type

const TripWrite = Schema.Struct({
  ...ExpectedWrite.fields,
  from_state: BreakerState,
  details: Schema.Record(Schema.String, Schema.Unknown),
  at: Schema.String,
  audit_rows_json: Schema.String
})

const tripStatement = SqlSchema.findOneOption({
  Request: TripWrite,
  Result: TransitionRow,
  // Hand-written: the compare-and-set, the superseded requests, the audit entry (its rows
  // expanded by `jsonb_to_recordset`) and the history row in data-modifying CTEs, one round trip.
  execute: (t) =>
    Effect.flatMap(client, (sql) =>
      sql.unsafe(
        `WITH updated AS (
           UPDATE breaker_scope SET ${SET_RECORD} WHERE scope = $1 AND version = $15 AND state <> 'TRIPPED' RETURNING scope
         ), superseded AS (
           UPDATE breaker_reset_request SET status = 'superseded' WHERE status = 'pending' AND scope IN (SELECT scope FROM updated)
         ), audited AS (
           INSERT INTO audit_log (${AUDIT_INSERT_COLUMNS}) SELECT ${AUDIT_INSERT_COLUMNS}
           FROM jsonb_to_recordset($16::jsonb) AS ${AUDIT_RECORDSET} WHERE EXISTS (SELECT 1 FROM updated)
         )
         INSERT INTO breaker_transition (scope, kind, from_state, to_state, version, source, actor, reason, details, at)
         SELECT scope, 'trip', $17, 'TRIPPED', $3, $8, $7::jsonb, $5, $18::jsonb, $19 FROM updated
         RETURNING ${TRANSITION_COLUMNS.join(", ")}`,
        [...recordParams(t.record, t.expected), t.audit_rows_json, t.from_state, JSON.stringify(t.details), t.at]
      )
    )
})

/**
 * A trip in one statement (one round trip, committed on its own): compare-and-set from a record
 * that is not tripped, supersede pending reset requests, append the history row and the audit
 * entry. `undefined` when the version moved (the caller then takes the locked path).
 */
export const tripInOneStatement = (
  record: BreakerRecord,
  expected: number,
  t: Omit<NewTransition, "scope" | "kind" | "to_state" | "version" | "source" | "actor" | "reason">,
  auditRowsJson: string
) =>
  tripStatement({
    record,
    expected,
    from_state: t.from_state,
    details: t.details,
    at: t.at,
    audit_rows_json: auditRowsJson
  }).pipe(
    Effect.map((row) => (row._tag === "Some" ? row.value : undefined)),
    Effect.catchTag("SchemaError", schemaDefect("breaker_transition"))
  )

const transitionInsert = SqlSchema.findOne({
  Request: NewTransition,
  Result: TransitionRow,
  execute: (t) =>
    run(
      db
        .insertInto("breaker_transition")
        .values({
          scope: t.scope,
          kind: t.kind,
          from_state: t.from_state,
          to_state: t.to_state,
          version: t.version,
          source: t.source,
          actor: JSON.stringify(t.actor),
          reason: t.reason,
          details: JSON.stringify(t.details),
          at: t.at
        })
        .returning(TRANSITION_COLUMNS)
    )
})

export const appendTransition = (t: NewTransition) =>
  transitionInsert(t).pipe(
    Effect.catchTag("SchemaError", schemaDefect("breaker_transition")),
    Effect.catchTag("NoSuchElementError", noRowDefect("breaker_transition"))
  )

const historyPage = SqlSchema.findAll({
  Request: Schema.Struct({ scope: Schema.String, limit: Schema.Int, before: Schema.NullOr(Schema.String) }),
  Result: TransitionRow,
  execute: ({ scope, limit, before }) => {
    const ofScope = db.selectFrom("breaker_transition").select(TRANSITION_COLUMNS).where("scope", "=", scope)
    const page = before === null ? ofScope : ofScope.where("id", "<", before)
    return run(page.orderBy("id", "desc").limit(limit))
  }
})

/** Newest first; `before` pages backwards by id. */
export const readHistory = (scope: string, limit: number, before: string | undefined) =>
  historyPage({ scope, limit, before: before ?? null }).pipe(
    Effect.catchTag("SchemaError", schemaDefect("breaker_transition"))
  )
