/**
 * The SQL of retention, next to the runner that owns it. Table and column names come from
 * validated declarations and are quoted as identifiers; every value is a bound parameter. A batch
 * is one DELETE statement (its own short transaction) of at most `limit` rows found by `ctid`, so
 * it works on any plain table whatever its key, and `= ANY (ARRAY(…))` keeps it a TID scan.
 */
import { Effect, Option, Schema } from "effect"
import { SqlClient } from "effect/sql"

// float8: exact up to 2^53 rows, and a plain number from the driver (int8 would be a bigint).
const Count = Schema.Struct({ n: Schema.Finite })
const decodeCount = Schema.decodeUnknownEffect(Count)

/** The rows' single count; a malformed answer is a bug (a defect), not an outage. */
const countOf = (rows: ReadonlyArray<unknown>) => Effect.orDie(Effect.map(decodeCount(rows[0]), (row) => row.n))

const TableShape = Schema.Struct({ kind: Schema.String, column_type: Schema.NullOr(Schema.String) })

/** What the database says about `table` and its `column`: none when there is no such relation. */
export const describeTable = (table: string, column: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    // to_regclass resolves the name as the unqualified DELETE will (search_path).
    const rows = yield* sql`SELECT c.relkind::text AS kind, format_type(a.atttypid, a.atttypmod) AS column_type
      FROM pg_class c
      LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = ${column} AND a.attnum > 0 AND NOT a.attisdropped
      WHERE c.oid = to_regclass(${table})`
    if (rows.length === 0) return Option.none()
    return Option.some(yield* Effect.orDie(Schema.decodeUnknownEffect(TableShape)(rows[0])))
  })

/** Rows of `table` whose `column` is before `cutoff` (ISO-8601). */
export const countDue = (table: string, column: string, cutoff: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.flatMap(
      sql`SELECT count(*)::float8 AS n FROM ${sql(table)} WHERE ${sql(column)} < ${cutoff}::timestamptz`,
      countOf
    )
  )

/** Deletes at most `limit` rows due as of `cutoff`; returns how many it deleted. */
export const deleteBatch = (table: string, column: string, cutoff: string, limit: number) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.flatMap(
      sql`WITH gone AS (
          DELETE FROM ${sql(table)}
          WHERE ctid = ANY (ARRAY(
            SELECT ctid FROM ${sql(table)} WHERE ${sql(column)} < ${cutoff}::timestamptz LIMIT ${limit}
          ))
          RETURNING 1
        )
        SELECT count(*)::float8 AS n FROM gone`,
      countOf
    )
  )

const SlotRow = Schema.Struct({ last_slot: Schema.Date })

/** The slot of the last completed daily run, if any. */
export const lastScheduledSlot = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql`SELECT last_slot FROM retention_schedule WHERE singleton`
  if (rows.length === 0) return Option.none<Date>()
  const row = yield* Effect.orDie(Schema.decodeUnknownEffect(SlotRow)(rows[0]))
  return Option.some(row.last_slot)
})

/** Records that the daily run of `slot` completed. */
export const recordScheduledSlot = (slot: Date) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.asVoid(
      sql`INSERT INTO retention_schedule (singleton, last_slot, completed_at)
        VALUES (true, ${slot.toISOString()}::timestamptz, now())
        ON CONFLICT (singleton) DO UPDATE SET last_slot = excluded.last_slot, completed_at = excluded.completed_at`
    )
  )
