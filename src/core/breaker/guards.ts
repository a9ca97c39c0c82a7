/**
 * Turns the database being unreachable (an SQL error or a timeout) into the breaker's 503
 * `stores_unhealthy` answer, naming the store.
 */
import { type Cause, Effect } from "effect"
import type { SqlError } from "effect/sql"
import { StoresUnhealthy } from "./errors.ts"

type Down = SqlError.SqlError | Cause.TimeoutError

const isDown = (e: unknown): e is Down =>
  typeof e === "object" && e !== null && "_tag" in e && (e._tag === "SqlError" || e._tag === "TimeoutError")

export const databaseErrors = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, Down> | StoresUnhealthy, R> =>
  Effect.mapError(effect, (e): Exclude<E, Down> | StoresUnhealthy =>
    isDown(e)
      ? new StoresUnhealthy({
          message: `the database is unreachable (${e._tag === "SqlError" ? e.message : "timed out"})`,
          details: { store: "postgresql" }
        })
      : (e as Exclude<E, Down>)
  )
