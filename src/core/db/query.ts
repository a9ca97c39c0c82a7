/**
 * Kysely as a query *compiler*: queries are built with full types over {@link Database}, compiled
 * to SQL text and parameters, and run through the Effect SQL client, so they take part in its
 * transactions, spans and typed errors.
 */
import { Effect } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import {
  type Compilable,
  DummyDriver,
  Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler
} from "kysely"
import type { Database } from "./schema.ts"

/** Builds queries; never connects. */
export const db = new Kysely<Database>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new PostgresIntrospector(k),
    createQueryCompiler: () => new PostgresQueryCompiler()
  }
})

/** Runs a compiled query and returns its rows, typed by the query. */
export const run = <Row>(
  query: Compilable<Row>
): Effect.Effect<ReadonlyArray<Row>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.flatMap(SqlClient.SqlClient, (sql) => {
    const compiled = query.compile()
    return sql.unsafe<Row & object>(compiled.sql, compiled.parameters)
  })

/** Runs a compiled query and returns its first row, if any. */
export const first = <Row>(query: Compilable<Row>) =>
  Effect.map(run(query), (rows) => (rows.length > 0 ? rows[0] : undefined))
