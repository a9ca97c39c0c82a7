/**
 * The `idempotency_key` table. A claim is one atomic statement (INSERT … ON CONFLICT), so of any
 * number of concurrent requests with one key exactly one holds it; only the holder of a claim
 * (its token) may renew, complete or release it. Times come from the caller (the Effect clock).
 */
import { Context, Effect, Layer, Option, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { db, run } from "../db/query.ts"

/** A key's row as the claim path reads it. */
export const StoredKey = Schema.Struct({
  fingerprint: Schema.String,
  state: Schema.Literals(["in_progress", "completed"]),
  locked_until: Schema.NullOr(Schema.Date),
  response_status: Schema.NullOr(Schema.Int),
  response_headers: Schema.NullOr(Schema.Record(Schema.String, Schema.String)),
  response_body: Schema.NullOr(Schema.Uint8Array),
  withheld: Schema.Boolean,
  completed_at: Schema.NullOr(Schema.Date),
  expires_at: Schema.Date
})
export type StoredKey = typeof StoredKey.Type

/** Whose key, which key, and the token of the claim that holds it. */
export interface ClaimRef {
  readonly principal: string
  readonly key: string
  readonly token: string
}

export interface ClaimRequest extends ClaimRef {
  readonly fingerprint: string
  readonly method: string
  readonly path: string
  readonly now: number
  readonly lockedUntil: number
  readonly expiresAt: number
}

/** What a claim found: the key is ours now, another request holds it (or held it), or its row just went. */
export type ClaimOutcome =
  | { readonly _tag: "Claimed" }
  | { readonly _tag: "Held"; readonly row: StoredKey }
  | { readonly _tag: "Vanished" }

/** The answer to keep: status, the replayed headers, the body (`null` when withheld). */
export interface KeptAnswer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: Uint8Array | null
  readonly withheld: boolean
}

/** Whether a held key may be taken over: it expired, or its claim is a dead process's (same request only). */
export const isClaimable = (row: StoredKey, fingerprint: string, now: number): boolean =>
  row.expires_at.getTime() <= now ||
  (row.state === "in_progress" &&
    row.fingerprint === fingerprint &&
    row.locked_until !== null &&
    row.locked_until.getTime() <= now)

const iso = (millis: number) => new Date(millis).toISOString()

/** A row that does not decode does not match the migration: a bug, not an answer. */
const decodeRow = (row: unknown) => Effect.orDie(Schema.decodeUnknownEffect(StoredKey)(row))

const COLUMNS = [
  "fingerprint",
  "state",
  "locked_until",
  "response_status",
  "response_headers",
  "response_body",
  "withheld",
  "completed_at",
  "expires_at"
] as const

/** Shown to operators reading the table; the fingerprint covers the whole path. */
const MAX_SHOWN_PATH = 2048

export interface IdempotencyStoreShape {
  /**
   * Claims the key for this request: inserts it in progress, or takes over an expired key or a
   * dead claim of the same request (its lease ran out). Otherwise the row that holds it.
   */
  readonly claim: (request: ClaimRequest) => Effect.Effect<ClaimOutcome, SqlError.SqlError>
  /** The key's row, if any. */
  readonly find: (principal: string, key: string) => Effect.Effect<Option.Option<StoredKey>, SqlError.SqlError>
  /** Extends a live claim; false if it is no longer ours. */
  readonly renew: (ref: ClaimRef, lockedUntil: number) => Effect.Effect<boolean, SqlError.SqlError>
  /** Keeps the answer of a claim; false if it is no longer ours (taken over after its lease ran out). */
  readonly complete: (
    ref: ClaimRef,
    answer: KeptAnswer,
    now: number,
    expiresAt: number
  ) => Effect.Effect<boolean, SqlError.SqlError>
  /** Gives a claim up so a retry may execute; false if it was not ours any more. */
  readonly release: (ref: ClaimRef) => Effect.Effect<boolean, SqlError.SqlError>
}

export class IdempotencyStore extends Context.Service<IdempotencyStore, IdempotencyStoreShape>()(
  "breakwater/IdempotencyStore"
) {
  static readonly layer = Layer.effect(
    IdempotencyStore,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const provide = Effect.provideService(SqlClient.SqlClient, sql)

      const find = Effect.fn("IdempotencyStore.find")(function* (principal: string, key: string) {
        const rows = yield* provide(
          run(
            db.selectFrom("idempotency_key").select(COLUMNS).where("principal", "=", principal).where("key", "=", key)
          )
        )
        const [row] = rows
        return row === undefined ? Option.none() : Option.some(yield* decodeRow(row))
      })

      const claim = Effect.fn("IdempotencyStore.claim")(function* (request: ClaimRequest) {
        const now = iso(request.now)
        // One statement: a new key is inserted; an expired key, or the dead claim of this same
        // request, is taken over; a live key is left alone and nothing is returned.
        const claimed = yield* sql<{ readonly claim_token: string }>`
          INSERT INTO idempotency_key AS k
            (principal, key, fingerprint, method, path, state, claim_token, locked_until, created_at, expires_at)
          VALUES (${request.principal}, ${request.key}, ${request.fingerprint}, ${request.method},
            ${request.path.slice(0, MAX_SHOWN_PATH)}, 'in_progress', ${request.token}::uuid,
            ${iso(request.lockedUntil)}::timestamptz, ${now}::timestamptz, ${iso(request.expiresAt)}::timestamptz)
          ON CONFLICT (principal, key) DO UPDATE SET
            fingerprint = EXCLUDED.fingerprint, method = EXCLUDED.method, path = EXCLUDED.path,
            state = 'in_progress', claim_token = EXCLUDED.claim_token, locked_until = EXCLUDED.locked_until,
            response_status = NULL, response_headers = NULL, response_body = NULL, withheld = false,
            created_at = EXCLUDED.created_at, completed_at = NULL, expires_at = EXCLUDED.expires_at
          WHERE k.expires_at <= EXCLUDED.created_at
             OR (k.state = 'in_progress' AND k.locked_until <= EXCLUDED.created_at
                 AND k.fingerprint = EXCLUDED.fingerprint)
          RETURNING claim_token`
        if (claimed.length > 0) return { _tag: "Claimed" } as const
        const held = yield* find(request.principal, request.key)
        return Option.match(held, {
          onNone: () => ({ _tag: "Vanished" }) as const,
          onSome: (row) => ({ _tag: "Held", row }) as const
        })
      })

      const ours = (ref: ClaimRef) =>
        db
          .updateTable("idempotency_key")
          .where("principal", "=", ref.principal)
          .where("key", "=", ref.key)
          .where("claim_token", "=", ref.token)
          .where("state", "=", "in_progress")

      const renew = Effect.fn("IdempotencyStore.renew")(function* (ref: ClaimRef, lockedUntil: number) {
        const rows = yield* provide(
          run(
            ours(ref)
              .set({ locked_until: iso(lockedUntil) })
              .returning("claim_token")
          )
        )
        return rows.length > 0
      })

      const complete = Effect.fn("IdempotencyStore.complete")(function* (
        ref: ClaimRef,
        answer: KeptAnswer,
        now: number,
        expiresAt: number
      ) {
        const rows = yield* provide(
          run(
            ours(ref)
              .set({
                state: "completed",
                locked_until: null,
                response_status: answer.status,
                response_headers: JSON.stringify(answer.headers),
                response_body: answer.body,
                withheld: answer.withheld,
                completed_at: iso(now),
                expires_at: iso(expiresAt)
              })
              .returning("claim_token")
          )
        )
        return rows.length > 0
      })

      const release = Effect.fn("IdempotencyStore.release")(function* (ref: ClaimRef) {
        const rows = yield* provide(
          run(
            db
              .deleteFrom("idempotency_key")
              .where("principal", "=", ref.principal)
              .where("key", "=", ref.key)
              .where("claim_token", "=", ref.token)
              .where("state", "=", "in_progress")
              .returning("claim_token")
          )
        )
        return rows.length > 0
      })

      return IdempotencyStore.of({ claim, find, renew, complete, release })
    })
  )
}
