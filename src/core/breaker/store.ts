/**
 * The breaker's SQL: scope rows (the truth), the transition history, reset requests and settings.
 * Times come from the caller (the Effect clock), so tests drive them with TestClock.
 */
import { Effect } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { AUDIT_INSERT_COLUMNS, AUDIT_RECORDSET } from "../audit/store.ts"
import { shownJson } from "../json-bounds.ts"
import type {
  ActorJson,
  BreakerRecord,
  BreakerSettings,
  BreakerState,
  ResetRequest,
  Transition,
  TransitionKind,
  TripSource
} from "./model.ts"

const client = SqlClient.SqlClient

const iso = (value: unknown): string | null =>
  value === null || value === undefined ? null : new Date(value as string | Date).toISOString()

const json = <A>(value: unknown): A | null => {
  if (value === null || value === undefined) return null
  return (typeof value === "string" ? JSON.parse(value) : value) as A
}

/** The UTC calendar day of a time, as PostgreSQL's `date` prints it. */
export const utcDay = (millis: number) => new Date(millis).toISOString().slice(0, 10)

interface ScopeRow {
  readonly scope: string
  readonly state: BreakerState
  readonly version: string | number
  readonly tripped_at: Date | string | null
  readonly trip_reason: string | null
  readonly trip_details: unknown
  readonly tripped_by: unknown
  readonly trip_source: TripSource | null
  readonly reset_at: Date | string | null
  readonly reset_by: unknown
  readonly quiet_until: Date | string | null
  readonly trip_count_today: number
  /** Selected as text (`YYYY-MM-DD`): no time-zone conversion of a calendar day. */
  readonly trip_count_day: string | null
  readonly updated_at: Date | string
}

/**
 * Stored free-form details as readers get them: withheld when out of bounds (written before the
 * bounds existed), so no published record, stream event or API answer is too deep to encode.
 */
const shownDetails = (value: unknown): Record<string, unknown> | null => {
  const details = json<Record<string, unknown>>(value)
  return details === null ? null : shownJson(details)
}

/** A stored row as the record; `trip_count_today` is 0 on any other UTC day than `now`'s. */
export const toRecord = (row: ScopeRow, now: number): BreakerRecord => ({
  scope: row.scope,
  state: row.state,
  version: Number(row.version),
  tripped_at: iso(row.tripped_at),
  trip_reason: row.trip_reason,
  trip_details: shownDetails(row.trip_details),
  tripped_by: json<ActorJson>(row.tripped_by),
  trip_source: row.trip_source,
  reset_at: iso(row.reset_at),
  reset_by: json<ActorJson>(row.reset_by),
  quiet_until: iso(row.quiet_until),
  trip_count_today: row.trip_count_day === utcDay(now) ? row.trip_count_today : 0,
  updated_at: iso(row.updated_at) ?? new Date(now).toISOString()
})

const SCOPE_COLUMNS =
  "scope, state, version, tripped_at, trip_reason, trip_details, tripped_by, trip_source, reset_at, reset_by, quiet_until, trip_count_today, trip_count_day::text AS trip_count_day, updated_at"

export const readScopes = (
  now: number
): Effect.Effect<ReadonlyArray<BreakerRecord>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(client, (sql) =>
    Effect.map(
      sql.unsafe<ScopeRow>(`SELECT ${SCOPE_COLUMNS} FROM breaker_scope ORDER BY scope = 'global' DESC, scope`),
      (rows) => rows.map((r) => toRecord(r, now))
    )
  )

/** The records of the named scopes (those that exist), in no particular order. */
export const readScopesNamed = (scopes: ReadonlyArray<string>, now: number) =>
  Effect.flatMap(client, (sql) =>
    Effect.map(
      sql.unsafe<ScopeRow>(`SELECT ${SCOPE_COLUMNS} FROM breaker_scope WHERE scope = ANY($1)`, [scopes]),
      (rows) => rows.map((r) => toRecord(r, now))
    )
  )

/** One scope's record; with `lock`, its row stays locked for the rest of the transaction. */
export const readScope = (scope: string, now: number, lock = false) =>
  Effect.flatMap(client, (sql) =>
    Effect.map(
      sql.unsafe<ScopeRow>(`SELECT ${SCOPE_COLUMNS} FROM breaker_scope WHERE scope = $1${lock ? " FOR UPDATE" : ""}`, [
        scope
      ]),
      (rows) => (rows[0] === undefined ? undefined : toRecord(rows[0], now))
    )
  )

/**
 * Writes a record over the stored one if its version is still `expected` (compare-and-set).
 * Returns false when another change won.
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

export const compareAndSet = (record: BreakerRecord, expected: number) =>
  Effect.flatMap(client, (sql) =>
    Effect.map(
      sql.unsafe<{ scope: string }>(
        `UPDATE breaker_scope SET ${SET_RECORD} WHERE scope = $1 AND version = $15 RETURNING scope`,
        recordParams(record, expected)
      ),
      (rows) => rows.length === 1
    )
  )

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
  Effect.flatMap(client, (sql) =>
    Effect.map(
      sql.unsafe<TransitionRow>(
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
         RETURNING ${TRANSITION_COLUMNS}`,
        [...recordParams(record, expected), auditRowsJson, t.from_state, JSON.stringify(t.details), t.at]
      ),
      (rows) => (rows[0] === undefined ? undefined : toTransition(rows[0]))
    )
  )

export const insertScope = (scope: string, now: number) =>
  Effect.flatMap(client, (sql) =>
    Effect.map(
      sql.unsafe<ScopeRow>(
        `INSERT INTO breaker_scope (scope, state, version, created_at, updated_at) VALUES ($1, 'OPEN', 1, $2, $2)
         RETURNING ${SCOPE_COLUMNS}`,
        [scope, new Date(now).toISOString()]
      ),
      (rows) => toRecord(rows[0]!, now)
    )
  )

export interface NewTransition {
  readonly scope: string
  readonly kind: TransitionKind
  readonly from_state: BreakerState
  readonly to_state: BreakerState
  readonly version: number
  readonly source: TripSource | null
  readonly actor: ActorJson
  readonly reason: string | null
  readonly details: Readonly<Record<string, unknown>>
  readonly at: string
}

interface TransitionRow extends Omit<NewTransition, "version" | "at" | "details" | "actor"> {
  readonly id: string | number
  readonly version: string | number
  readonly at: Date | string
  readonly details: unknown
  readonly actor: unknown
}

const toTransition = (row: TransitionRow): Transition => ({
  id: String(row.id),
  scope: row.scope,
  kind: row.kind,
  from_state: row.from_state,
  to_state: row.to_state,
  version: Number(row.version),
  source: row.source,
  actor: json<ActorJson>(row.actor) ?? { type: "system", id: "system:unknown", name: "unknown" },
  reason: row.reason,
  details: shownDetails(row.details) ?? {},
  at: iso(row.at) ?? row.at.toString()
})

const TRANSITION_COLUMNS = "id, scope, kind, from_state, to_state, version, source, actor, reason, details, at"

export const appendTransition = (t: NewTransition) =>
  Effect.flatMap(client, (sql) =>
    Effect.map(
      sql.unsafe<TransitionRow>(
        `INSERT INTO breaker_transition (scope, kind, from_state, to_state, version, source, actor, reason, details, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9::jsonb, $10) RETURNING ${TRANSITION_COLUMNS}`,
        [
          t.scope,
          t.kind,
          t.from_state,
          t.to_state,
          t.version,
          t.source,
          JSON.stringify(t.actor),
          t.reason,
          JSON.stringify(t.details),
          t.at
        ]
      ),
      (rows) => toTransition(rows[0]!)
    )
  )

/** Newest first; `before` pages backwards by id. */
export const readHistory = (scope: string, limit: number, before: string | undefined) =>
  Effect.flatMap(client, (sql) =>
    Effect.map(
      before === undefined
        ? sql.unsafe<TransitionRow>(
            `SELECT ${TRANSITION_COLUMNS} FROM breaker_transition WHERE scope = $1 ORDER BY id DESC LIMIT $2`,
            [scope, limit]
          )
        : sql.unsafe<TransitionRow>(
            `SELECT ${TRANSITION_COLUMNS} FROM breaker_transition WHERE scope = $1 AND id < $2 ORDER BY id DESC LIMIT $3`,
            [scope, before, limit]
          ),
      (rows) => rows.map(toTransition)
    )
  )

interface RequestRow {
  readonly id: string
  readonly scope: string
  readonly base_version: string | number
  readonly requested_by: unknown
  readonly reason: string
  readonly requested_at: Date | string
  readonly expires_at: Date | string
  readonly status: ResetRequest["status"]
  readonly approved_by: unknown
  readonly approved_at: Date | string | null
}

const toRequest = (row: RequestRow): ResetRequest => ({
  id: row.id,
  scope: row.scope,
  base_version: Number(row.base_version),
  requested_by: json<ActorJson>(row.requested_by) ?? { type: "system", id: "system:unknown", name: "unknown" },
  reason: row.reason,
  requested_at: iso(row.requested_at) ?? "",
  expires_at: iso(row.expires_at) ?? "",
  status: row.status,
  approved_by: json<ActorJson>(row.approved_by),
  approved_at: iso(row.approved_at)
})

const REQUEST_COLUMNS =
  "id, scope, base_version, requested_by, reason, requested_at, expires_at, status, approved_by, approved_at"

export const insertRequest = (r: Omit<ResetRequest, "status" | "approved_by" | "approved_at">) =>
  Effect.flatMap(client, (sql) =>
    Effect.map(
      sql.unsafe<RequestRow>(
        `INSERT INTO breaker_reset_request (id, scope, base_version, requested_by, reason, requested_at, expires_at, status)
         VALUES ($1, $2, $3, $4::jsonb, $5, $6, $7, 'pending') RETURNING ${REQUEST_COLUMNS}`,
        [r.id, r.scope, r.base_version, JSON.stringify(r.requested_by), r.reason, r.requested_at, r.expires_at]
      ),
      (rows) => toRequest(rows[0]!)
    )
  )

export const lockRequest = (id: string) =>
  Effect.flatMap(client, (sql) =>
    Effect.map(
      sql.unsafe<RequestRow>(`SELECT ${REQUEST_COLUMNS} FROM breaker_reset_request WHERE id = $1 FOR UPDATE`, [id]),
      (rows) => (rows[0] === undefined ? undefined : toRequest(rows[0]))
    )
  )

export const closeRequest = (
  id: string,
  status: ResetRequest["status"],
  approvedBy: ActorJson | null,
  at: string | null
) =>
  Effect.flatMap(client, (sql) =>
    sql.unsafe(
      `UPDATE breaker_reset_request SET status = $2, approved_by = $3::jsonb, approved_at = $4 WHERE id = $1`,
      [id, status, approvedBy === null ? null : JSON.stringify(approvedBy), at]
    )
  )

/** Pending requests; those past their window are reported (and stored) as expired. */
export const readPending = (scope: string | undefined, now: number) =>
  Effect.flatMap(client, (sql) =>
    Effect.gen(function* () {
      const nowIso = new Date(now).toISOString()
      yield* sql.unsafe(
        `UPDATE breaker_reset_request SET status = 'expired' WHERE status = 'pending' AND expires_at <= $1`,
        [nowIso]
      )
      const rows =
        scope === undefined
          ? yield* sql.unsafe<RequestRow>(
              `SELECT ${REQUEST_COLUMNS} FROM breaker_reset_request WHERE status = 'pending' ORDER BY requested_at`
            )
          : yield* sql.unsafe<RequestRow>(
              `SELECT ${REQUEST_COLUMNS} FROM breaker_reset_request WHERE status = 'pending' AND scope = $1 ORDER BY requested_at`,
              [scope]
            )
      return rows.map(toRequest)
    })
  )

/** Marks the other pending requests of a scope superseded (the state they applied to is gone). */
export const supersedeRequests = (scope: string, except: string | undefined) =>
  Effect.flatMap(client, (sql) =>
    sql.unsafe(
      `UPDATE breaker_reset_request SET status = 'superseded' WHERE scope = $1 AND status = 'pending' AND id::text <> $2`,
      [scope, except ?? ""]
    )
  )

export const SETTINGS_KEY = "breaker"

export const readSettings = Effect.flatMap(client, (sql) =>
  Effect.map(sql.unsafe<{ value: unknown }>(`SELECT value FROM setting WHERE key = $1`, [SETTINGS_KEY]), (rows) =>
    json<Partial<BreakerSettings>>(rows[0]?.value)
  )
)

export const writeSettings = (settings: BreakerSettings, actor: ActorJson, now: number) =>
  Effect.flatMap(client, (sql) =>
    sql.unsafe(
      `INSERT INTO setting (key, value, updated_at, updated_by) VALUES ($1, $2::jsonb, $3, $4::jsonb)
       ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, updated_at = EXCLUDED.updated_at, updated_by = EXCLUDED.updated_by`,
      [SETTINGS_KEY, JSON.stringify(settings), new Date(now).toISOString(), JSON.stringify(actor)]
    )
  )
