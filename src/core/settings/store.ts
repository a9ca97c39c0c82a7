/**
 * The SQL of `setting_version`: the latest version of some keys, a key's history, one version,
 * and the insert of the next version under a per-key lock (so two changes of one key queue up
 * instead of racing for the same number). Rows are decoded with Schema at this boundary; the
 * table's CHECKs shape every row, so one that does not decode is a bug (a defect, not a refusal).
 */
import { Effect, Schema } from "effect"
import { SqlClient, type SqlError, SqlSchema } from "effect/sql"
import { sql as kysql } from "kysely"
import type { Actor } from "../audit/entry.ts"
import { db, run } from "../db/query.ts"
import { SettingActor, type SettingVersion } from "./model.ts"

const Row = Schema.Struct({
  key: Schema.String,
  version: Schema.Int,
  value: Schema.Unknown,
  changed_at: Schema.Date,
  changed_by: SettingActor,
  reason: Schema.NullOr(Schema.String)
})
type Row = typeof Row.Type

const toVersion = (row: Row): SettingVersion => ({
  key: row.key,
  version: row.version,
  value: row.value,
  changedAt: row.changed_at.toISOString(),
  changedBy: row.changed_by,
  reason: row.reason
})

const rowsAsVersions = (
  rows: Effect.Effect<ReadonlyArray<Row>, SqlError.SqlError | Schema.SchemaError, SqlClient.SqlClient>
): Effect.Effect<ReadonlyArray<SettingVersion>, SqlError.SqlError, SqlClient.SqlClient> =>
  rows.pipe(
    Effect.map((found) => found.map(toVersion)),
    Effect.catchTag("SchemaError", (error) =>
      Effect.die(new Error(`a setting_version row does not decode: ${error.message}`))
    )
  )

const Keys = Schema.Array(Schema.String)

const latestOf = SqlSchema.findAll({
  Request: Keys,
  Result: Row,
  execute: (keys) =>
    run(
      db
        .selectFrom("setting_version")
        .distinctOn("key")
        .selectAll()
        .where("key", "in", keys)
        .orderBy("key")
        .orderBy("version", "desc")
    )
})

/** The latest stored version of each of `keys` that has one. */
export const latest = (
  keys: ReadonlyArray<string>
): Effect.Effect<ReadonlyArray<SettingVersion>, SqlError.SqlError, SqlClient.SqlClient> =>
  keys.length === 0 ? Effect.succeed([]) : rowsAsVersions(latestOf(keys))

const latestOfAll = SqlSchema.findAll({
  Request: Schema.Void,
  Result: Row,
  execute: () =>
    run(db.selectFrom("setting_version").distinctOn("key").selectAll().orderBy("key").orderBy("version", "desc"))
})

/** The latest stored version of every key (declared or not yet). */
export const latestAll: Effect.Effect<
  ReadonlyArray<SettingVersion>,
  SqlError.SqlError,
  SqlClient.SqlClient
> = rowsAsVersions(latestOfAll(undefined))

const HistoryRequest = Schema.Struct({ key: Schema.String, limit: Schema.Int, before: Schema.NullOr(Schema.Int) })

const historyOf = SqlSchema.findAll({
  Request: HistoryRequest,
  Result: Row,
  execute: ({ key, limit, before }) =>
    run(
      db
        .selectFrom("setting_version")
        .selectAll()
        .where("key", "=", key)
        .$if(before !== null, (q) => q.where("version", "<", before ?? 0))
        .orderBy("version", "desc")
        .limit(limit)
    )
})

/** A key's versions, newest first, older than `before` when given. */
export const history = (key: string, limit: number, before: number | undefined) =>
  rowsAsVersions(historyOf({ key, limit, before: before ?? null }))

const VersionRequest = Schema.Struct({ key: Schema.String, version: Schema.Int })

const versionOf = SqlSchema.findAll({
  Request: VersionRequest,
  Result: Row,
  execute: ({ key, version }) =>
    run(db.selectFrom("setting_version").selectAll().where("key", "=", key).where("version", "=", version))
})

/** One stored version, if the key had it. */
export const version = (key: string, version: number) =>
  Effect.map(rowsAsVersions(versionOf({ key, version })), (rows) => rows[0])

/** Namespace of the per-key advisory locks (the other number is the key's hash). */
const LOCK_NAMESPACE = 736_120_261

/** Queues this transaction behind any other change of `key` until it ends. */
export const lockKey = (key: string) =>
  Effect.flatMap(SqlClient.SqlClient, (sql) =>
    Effect.asVoid(sql`SELECT pg_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext(${key}))`)
  )

export interface NewVersion {
  readonly key: string
  readonly version: number
  /** JSON, as the setting's schema encodes it. */
  readonly value: unknown
  readonly changedBy: Actor
  readonly reason: string | undefined
}

const inserted = SqlSchema.findAll({
  Request: Schema.Struct({
    key: Schema.String,
    version: Schema.Int,
    value: Schema.String,
    changed_by: Schema.String,
    reason: Schema.NullOr(Schema.String)
  }),
  Result: Row,
  execute: (row) =>
    run(
      db
        .insertInto("setting_version")
        .values({
          key: row.key,
          version: row.version,
          value: kysql`CAST(${row.value} AS jsonb)`,
          changed_by: kysql`CAST(${row.changed_by} AS jsonb)`,
          reason: row.reason
        })
        .returningAll()
    )
})

/** Inserts a version (in the caller's transaction, after {@link lockKey}); returns it as stored. */
export const insert = (row: NewVersion) =>
  Effect.flatMap(
    rowsAsVersions(
      inserted({
        key: row.key,
        version: row.version,
        value: JSON.stringify(row.value),
        changed_by: JSON.stringify(row.changedBy),
        reason: row.reason ?? null
      })
    ),
    (rows) => {
      const stored = rows[0]
      return stored === undefined
        ? Effect.die(new Error(`inserting version ${row.version} of ${row.key} returned no row`))
        : Effect.succeed(stored)
    }
  )
