/** A short-lived SQL client on the admin database, for creating and dropping test databases. */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { adminDatabaseUrl, databaseUrl } from "./services.ts"

export const withSql = <A, E>(url: string, f: (sql: SqlClient.SqlClient) => Effect.Effect<A, E>): Promise<A> =>
  Effect.runPromise(
    Effect.flatMap(SqlClient.SqlClient, f).pipe(
      Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })),
      Effect.scoped
    )
  )

export const withAdminSql = <A, E>(f: (sql: SqlClient.SqlClient) => Effect.Effect<A, E>): Promise<A> =>
  withSql(adminDatabaseUrl, f)

/** Identifiers we build are plain lowercase words; refuse anything else before quoting. */
export const ident = (name: string): string => {
  if (!/^[a-z0-9_]+$/.test(name)) throw new Error(`unsafe database name ${name}`)
  return `"${name}"`
}

export { databaseUrl }
