/**
 * Whether a database failure is an outage (the database cannot be reached or is going away) or
 * an answer (it refused this statement: bad input, a constraint, a bug). Only an outage may be
 * reported as "unavailable", flip a reader to UNKNOWN or send a trip down the no-database path;
 * a refusal is a 4xx or a plain 500 with the request id.
 */
import type { SqlError } from "effect/sql"

const tagOf = (value: unknown): string | undefined =>
  typeof value === "object" && value !== null && "_tag" in value && typeof value._tag === "string"
    ? value._tag
    : undefined

/** The PostgreSQL SQLSTATE behind an SQL error, when the server sent one. */
export const sqlStateOf = (error: SqlError.SqlError): string | undefined => {
  const cause: unknown = error.reason.cause
  return typeof cause === "object" && cause !== null && "code" in cause && typeof cause.code === "string"
    ? cause.code
    : undefined
}

/**
 * SQLSTATE classes that mean the server cannot serve us now: 08 connection exception, 53
 * insufficient resources (too many connections), 57P operator intervention (shutting down,
 * cannot connect now).
 */
const OUTAGE_STATE = /^(08|53|57P)/

export const isSqlError = (error: unknown): error is SqlError.SqlError => tagOf(error) === "SqlError"

/** An SQL error that means the database is unreachable, not that it refused the statement. */
export const isDatabaseOutage = (error: unknown): boolean => {
  if (!isSqlError(error)) return false
  if (error.reason._tag === "ConnectionError") return true
  const state = sqlStateOf(error)
  return state !== undefined && OUTAGE_STATE.test(state)
}

/** An outage, or a call to the database that did not answer in time (`Effect.timeout`). */
export const isDatabaseDown = (error: unknown): boolean => isDatabaseOutage(error) || tagOf(error) === "TimeoutError"
