/**
 * Turns the database being unreachable (a lost connection or a timeout) into the breaker's 503
 * `stores_unhealthy` answer, naming the store. Any other SQL error is the database refusing a
 * statement — a bug, since input is checked at the boundary — and becomes a defect (500 with the
 * request id), never a false outage.
 */
import { type Cause, Effect } from "effect"
import type { SqlError } from "effect/sql"
import { StoresUnhealthy } from "../../core/contracts/circuit-breaker/errors.ts"
import { isDatabaseDown, isSqlError } from "../../core/db/outage.ts"

type Down = SqlError.SqlError | Cause.TimeoutError

const isDownOrSql = (e: unknown): e is Down =>
  isSqlError(e) || (typeof e === "object" && e !== null && "_tag" in e && e._tag === "TimeoutError")

export const databaseErrors = <A, E, R>(
  effect: Effect.Effect<A, E, R>
): Effect.Effect<A, Exclude<E, Down> | StoresUnhealthy, R> =>
  Effect.catch(effect, (e): Effect.Effect<never, Exclude<E, Down> | StoresUnhealthy> => {
    if (!isDownOrSql(e)) return Effect.fail(e as Exclude<E, Down>)
    if (!isDatabaseDown(e)) return Effect.die(e)
    return Effect.fail(
      new StoresUnhealthy({
        message: `the database is unreachable (${e._tag === "SqlError" ? e.message : "timed out"})`,
        details: { store: "postgresql" }
      })
    )
  })
