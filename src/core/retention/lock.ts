/**
 * The run lock: one real retention run at a time, in this process and across replicas. In the
 * process a semaphore; with an external PostgreSQL also a session-level advisory lock, held on a
 * connection reserved for the run while the batches go through the pool (each its own short
 * transaction, so the lock never keeps a transaction open). The embedded database is one process
 * with one connection: reserving it would stall every request, and the semaphore already covers it.
 */
import { Effect, Option, Schema, Semaphore } from "effect"
import { SqlClient, type SqlConnection, type SqlError } from "effect/sql"
import { DatabaseInfo } from "../db/client.ts"

/** Arbitrary, fixed key of the retention run's advisory lock (one-number form, like the migrator's). */
export const RETENTION_LOCK_KEY = 7_361_202_621

const Locked = Schema.Struct({ locked: Schema.Boolean })

export interface RunLock {
  /** Runs `effect` holding the lock; `None` (and nothing ran) when another run holds it. */
  readonly tryWith: <A, E, R>(
    effect: Effect.Effect<A, E, R>
  ) => Effect.Effect<Option.Option<A>, E | SqlError.SqlError, R>
}

const unlock = (connection: SqlConnection.Connection) =>
  connection.execute("SELECT pg_advisory_unlock($1)", [RETENTION_LOCK_KEY], undefined).pipe(
    // A failed unlock means the connection broke, and the server released the lock with it.
    Effect.catchCause((cause) => Effect.logWarning("could not release the retention lock", cause))
  )

export const makeRunLock = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const { mode } = yield* DatabaseInfo
  const local = yield* Semaphore.make(1)

  const advisory = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
    Effect.scoped(
      Effect.gen(function* () {
        const connection = yield* sql.reserve
        const rows = yield* connection.execute(
          "SELECT pg_try_advisory_lock($1) AS locked",
          [RETENTION_LOCK_KEY],
          undefined
        )
        const { locked } = yield* Effect.orDie(Schema.decodeUnknownEffect(Locked)(rows[0]))
        if (!locked) return Option.none<A>()
        return yield* effect.pipe(Effect.map(Option.some), Effect.ensuring(unlock(connection)))
      })
    )

  const tryWith: RunLock["tryWith"] = (effect) =>
    local
      .withPermitsIfAvailable(1)(mode === "external" ? advisory(effect) : Effect.map(effect, Option.some))
      .pipe(Effect.map(Option.flatten))

  return { tryWith } satisfies RunLock
})
