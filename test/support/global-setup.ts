/**
 * Once per test run: make sure a migrated template database exists (named by a hash of the
 * migrations, so a changed migration gets a new template), and drop this run's databases at the end.
 */
import { createHash, randomBytes } from "node:crypto"
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import type { TestProject } from "vitest/node"
import { loadMigrations, migrateFrom, migrationsDirectory } from "../../src/core/db/migrator.ts"
import { databaseUrl, ident, withAdminSql } from "./admin-sql.ts"

const LOCK = 7_361_202_612

export default async function setup(project: TestProject) {
  const files = await Effect.runPromise(loadMigrations(migrationsDirectory))
  const hash = createHash("sha256")
    .update(files.map((f) => f.checksum).join(","))
    .digest("hex")
    .slice(0, 12)
  const template = `bw_template_${hash}`
  // One connection (the admin client has one), so the session lock covers the whole build;
  // CREATE DATABASE cannot run inside a transaction.
  await withAdminSql((sql) =>
    Effect.acquireUseRelease(
      // Concurrent runs wait here instead of racing to build the same template.
      sql`SELECT pg_advisory_lock(${LOCK})`,
      () =>
        Effect.gen(function* () {
          const exists = yield* sql`SELECT 1 FROM pg_database WHERE datname = ${template}`
          if (exists.length > 0) return
          const building = `${template}_build`
          yield* sql.unsafe(`DROP DATABASE IF EXISTS ${ident(building)}`)
          yield* sql.unsafe(`CREATE DATABASE ${ident(building)}`)
          yield* migrateFrom(migrationsDirectory).pipe(
            Effect.provide(PgClient.layer({ url: Redacted.make(databaseUrl(building)), maxConnections: 1 })),
            Effect.scoped
          )
          yield* sql.unsafe(`ALTER DATABASE ${ident(building)} RENAME TO ${ident(template)}`)
        }),
      () => Effect.orDie(sql`SELECT pg_advisory_unlock(${LOCK})`)
    )
  )
  const runPrefix = `bw_test_${randomBytes(4).toString("hex")}`
  project.provide("templateDatabase", template)
  project.provide("runPrefix", runPrefix)
  return async () => {
    await withAdminSql((sql) =>
      Effect.gen(function* () {
        const rows = yield* sql<{
          datname: string
        }>`SELECT datname FROM pg_database WHERE datname LIKE ${`${runPrefix}%`}`
        for (const row of rows) yield* sql.unsafe(`DROP DATABASE IF EXISTS ${ident(row.datname)} WITH (FORCE)`)
      })
    )
  }
}
