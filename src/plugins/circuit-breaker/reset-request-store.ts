/**
 * The breaker's reset requests (four eyes): inserted by a reset that needs approval, locked and
 * closed by the approval, expired and superseded as the scope moves on. Rows decoded with Schema,
 * typed Kysely queries, as in store.ts.
 */
import { Effect, Schema, Struct } from "effect"
import { SqlSchema } from "effect/sql"
import { ActorJson, ResetRequest, ResetRequestStatus } from "../../core/contracts/circuit-breaker/model.ts"
import { run } from "../../core/db/query.ts"
import { BigIntNumber, NullableTimestamp, noRowDefect, schemaDefect, Timestamp } from "./store-codecs.ts"
import { db } from "./tables.ts"

/** A reset request row, decoded into the contract's {@link ResetRequest}. */
const RequestRow = Schema.Struct({
  id: Schema.String,
  scope: Schema.String,
  base_version: BigIntNumber,
  requested_by: ActorJson,
  reason: Schema.String,
  requested_at: Timestamp,
  expires_at: Timestamp,
  status: ResetRequestStatus,
  approved_by: Schema.NullOr(ActorJson),
  approved_at: NullableTimestamp
})

const REQUEST_COLUMNS = [
  "id",
  "scope",
  "base_version",
  "requested_by",
  "reason",
  "requested_at",
  "expires_at",
  "status",
  "approved_by",
  "approved_at"
] as const

const requestInsert = SqlSchema.findOne({
  Request: ResetRequest.mapFields(Struct.omit(["status", "approved_by", "approved_at"])),
  Result: RequestRow,
  execute: (r) =>
    run(
      db
        .insertInto("breaker_reset_request")
        .values({
          id: r.id,
          scope: r.scope,
          base_version: r.base_version,
          requested_by: JSON.stringify(r.requested_by),
          reason: r.reason,
          requested_at: r.requested_at,
          expires_at: r.expires_at,
          status: "pending"
        })
        .returning(REQUEST_COLUMNS)
    )
})

export const insertRequest = (r: Omit<ResetRequest, "status" | "approved_by" | "approved_at">) =>
  requestInsert(r).pipe(
    Effect.catchTag("SchemaError", schemaDefect("breaker_reset_request")),
    Effect.catchTag("NoSuchElementError", noRowDefect("breaker_reset_request"))
  )

const requestLocked = SqlSchema.findOneOption({
  Request: Schema.String,
  Result: RequestRow,
  execute: (id) => run(db.selectFrom("breaker_reset_request").select(REQUEST_COLUMNS).where("id", "=", id).forUpdate())
})

export const lockRequest = (id: string) =>
  requestLocked(id).pipe(
    Effect.map((row) => (row._tag === "Some" ? row.value : undefined)),
    Effect.catchTag("SchemaError", schemaDefect("breaker_reset_request"))
  )

const requestClose = SqlSchema.void({
  Request: Schema.Struct({
    id: Schema.String,
    status: ResetRequestStatus,
    approved_by: Schema.NullOr(ActorJson),
    approved_at: Schema.NullOr(Schema.String)
  }),
  execute: ({ id, status, approved_by, approved_at }) =>
    run(
      db
        .updateTable("breaker_reset_request")
        .set({ status, approved_by: approved_by === null ? null : JSON.stringify(approved_by), approved_at })
        .where("id", "=", id)
    )
})

export const closeRequest = (
  id: string,
  status: ResetRequest["status"],
  approvedBy: ActorJson | null,
  at: string | null
) =>
  requestClose({ id, status, approved_by: approvedBy, approved_at: at }).pipe(
    Effect.catchTag("SchemaError", schemaDefect("breaker_reset_request"))
  )

const requestsExpire = SqlSchema.void({
  Request: Schema.Number,
  execute: (now) =>
    run(
      db
        .updateTable("breaker_reset_request")
        .set({ status: "expired" })
        .where("status", "=", "pending")
        .where("expires_at", "<=", new Date(now))
    )
})

const requestsPending = SqlSchema.findAll({
  Request: Schema.NullOr(Schema.String),
  Result: RequestRow,
  execute: (scope) => {
    const pending = db.selectFrom("breaker_reset_request").select(REQUEST_COLUMNS).where("status", "=", "pending")
    const ofScope = scope === null ? pending : pending.where("scope", "=", scope)
    return run(ofScope.orderBy("requested_at", "asc"))
  }
})

/** Pending requests; those past their window are reported (and stored) as expired. */
export const readPending = (scope: string | undefined, now: number) =>
  Effect.gen(function* () {
    yield* requestsExpire(now)
    return yield* requestsPending(scope ?? null)
  }).pipe(Effect.catchTag("SchemaError", schemaDefect("breaker_reset_request")))

const requestsSupersede = SqlSchema.void({
  Request: Schema.Struct({ scope: Schema.String, except: Schema.NullOr(Schema.String) }),
  execute: ({ scope, except }) => {
    const pending = db
      .updateTable("breaker_reset_request")
      .set({ status: "superseded" })
      .where("scope", "=", scope)
      .where("status", "=", "pending")
    // Compared as text: `except` need not be a well-formed uuid.
    return run(except === null ? pending : pending.where((eb) => eb(eb.cast<string>("id", "text"), "<>", except)))
  }
})

/** Marks the other pending requests of a scope superseded (the state they applied to is gone). */
export const supersedeRequests = (scope: string, except: string | undefined) =>
  requestsSupersede({ scope, except: except ?? null }).pipe(
    Effect.catchTag("SchemaError", schemaDefect("breaker_reset_request"))
  )
