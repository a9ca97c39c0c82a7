/**
 * Applies the numbered `.sql` files of `migrations/` in order, each once, recorded in
 * `breakwater_migrations`. All pending files run in one transaction under a transaction-level
 * advisory lock, so replicas starting together apply each file exactly once and a failing file
 * leaves the schema as it was. A file changed after it was applied stops the start.
 */
import { createHash } from "node:crypto"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Schema } from "effect"
import { SqlClient } from "effect/sql"
import { splitSqlStatements } from "./split-sql.ts"
import { sqlErrorDetail } from "./sql-error.ts"

export const migrationsDirectory = fileURLToPath(new URL("../../../migrations", import.meta.url))

/** Arbitrary, fixed key of the advisory lock that serialises migrators. */
const LOCK_KEY = 7_361_202_611

export class MigrationError extends Schema.TaggedError<MigrationError>()("MigrationError", {
  message: Schema.String,
  cause: Schema.optional(Schema.Defect())
}) {}

export interface MigrationFile {
  /** The file name without `.sql`, e.g. `0001_installation`. */
  readonly file: string
  readonly id: number
  readonly name: string
  readonly sql: string
  readonly checksum: string
}

const FILE = /^(\d{4})_([a-z0-9_]+)\.sql$/

export const loadMigrations = (directory: string): Effect.Effect<ReadonlyArray<MigrationFile>, MigrationError> =>
  Effect.try({
    try: () => {
      const files = readdirSync(directory)
        .filter((f) => f.endsWith(".sql"))
        .sort()
      return files.map((file) => {
        const match = FILE.exec(file)
        if (match === null) throw new Error(`migration file name ${file} must look like 0001_name.sql`)
        const sql = readFileSync(join(directory, file), "utf8")
        return {
          file: file.slice(0, -".sql".length),
          id: Number(match[1]),
          name: match[2]!,
          sql,
          checksum: createHash("sha256").update(sql).digest("hex")
        }
      })
    },
    catch: (cause) => new MigrationError({ message: `cannot read migrations from ${directory}`, cause })
  }).pipe(
    Effect.flatMap((files) => {
      const ids = new Set<number>()
      for (const f of files) {
        if (ids.has(f.id))
          return Effect.fail(new MigrationError({ message: `two migrations share the number ${f.id}` }))
        ids.add(f.id)
      }
      return Effect.succeed(files)
    })
  )

interface AppliedRow {
  readonly id: number
  readonly checksum: string
}

/** Applies pending migrations; returns the ids it applied. */
export const migrateFrom = Effect.fn("Migrator.migrate")(function* (directory: string) {
  const sql = yield* SqlClient.SqlClient
  const files = yield* loadMigrations(directory)
  const applied = yield* sql.withTransaction(
    Effect.gen(function* () {
      yield* sql`SELECT pg_advisory_xact_lock(${LOCK_KEY})`
      // The bookkeeping table is the one table not created by a migration: it records them.
      // Created only when missing, so a role without CREATE can start once the owner has migrated.
      const [known] = yield* sql<{ exists: boolean }>`SELECT to_regclass('breakwater_migrations') IS NOT NULL AS exists`
      if (known?.exists !== true)
        yield* sql`CREATE TABLE breakwater_migrations (
          id integer PRIMARY KEY,
          name text NOT NULL,
          checksum text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`
      const rows = yield* sql<AppliedRow>`SELECT id, checksum FROM breakwater_migrations ORDER BY id`
      const done = new Map(rows.map((r) => [r.id, r.checksum]))
      for (const f of files) {
        const sum = done.get(f.id)
        if (sum !== undefined && sum !== f.checksum) {
          return yield* new MigrationError({
            message: `migration ${f.file} was changed after it was applied; add a new migration instead`
          })
        }
      }
      const pending = files.filter((f) => !done.has(f.id))
      for (const f of pending) {
        for (const statement of splitSqlStatements(f.sql)) {
          yield* sql
            .unsafe(statement)
            .pipe(
              Effect.mapError(
                (cause) =>
                  new MigrationError({ message: `migration ${f.file} failed: ${sqlErrorDetail(cause)}`, cause })
              )
            )
        }
        yield* sql`INSERT INTO breakwater_migrations (id, name, checksum) VALUES (${f.id}, ${f.name}, ${f.checksum})`
      }
      return pending.map((f) => f.id)
    })
  )
  if (applied.length > 0)
    yield* Effect.logInfo(`applied migrations ${applied.join(", ")}`).pipe(Effect.annotateLogs({ migrations: applied }))
  return applied
})

export const migrate = migrateFrom(migrationsDirectory)
