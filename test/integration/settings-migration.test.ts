/**
 * Migration 0006: the breaker's settings row (one JSON object under key `breaker`) becomes
 * version 1 of `breaker.quiet_period_seconds` and `breaker.reset_approvals`, each only when present,
 * with the old row's time and author; the old table stays.
 */
import { copyFileSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted, References } from "effect"
import { SqlClient } from "effect/sql"
import { describe, expect, it } from "vitest"
import { loadMigrations, migrateFrom, migrationsDirectory } from "../../src/core/db/migrator.ts"
import { createEmptyDatabase, dropDatabase } from "../support/database.ts"

const onDatabase = <A, E>(url: string, effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.runPromise(
    effect.pipe(
      Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })),
      Effect.scoped,
      Effect.provideService(References.MinimumLogLevel, "Warn")
    )
  )

/** A directory with the migrations numbered up to `last`. */
const migrationsUpTo = async (last: number) => {
  const dir = mkdtempSync(join(tmpdir(), "bw-settings-migration-"))
  for (const f of await Effect.runPromise(loadMigrations(migrationsDirectory)))
    if (f.id <= last) copyFileSync(join(migrationsDirectory, `${f.file}.sql`), join(dir, `${f.file}.sql`))
  return dir
}

interface Moved {
  readonly key: string
  readonly version: number
  readonly value: unknown
  readonly changed_at: Date
  readonly changed_by: unknown
  readonly reason: string | null
}

/** Migrates to 0005, runs `before`, migrates 0006; returns the settings rows and whether `setting` remains. */
const migrateWith = async (before: string, params: ReadonlyArray<unknown> = []) => {
  const db = await createEmptyDatabase()
  try {
    const dir = await migrationsUpTo(5)
    await onDatabase(db.url, migrateFrom(dir))
    if (before !== "")
      await onDatabase(
        db.url,
        Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe(before, params))
      )
    copyFileSync(join(migrationsDirectory, "0006_settings.sql"), join(dir, "0006_settings.sql"))
    expect(await onDatabase(db.url, migrateFrom(dir))).toEqual([6])
    return await onDatabase(
      db.url,
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        const rows = yield* sql.unsafe<Moved>("SELECT * FROM setting_version ORDER BY key, version")
        const old = yield* sql.unsafe<{ n: number }>("SELECT count(*)::int AS n FROM setting")
        return { rows, oldRows: old[0]?.n }
      })
    )
  } finally {
    await dropDatabase(db.name)
  }
}

const alice = { type: "user", id: "00000000-0000-4000-8000-00000000000a", name: "alice@test.local" }

describe("migration 0006 (settings)", () => {
  it("moves both breaker settings into version 1 of their keys, keeping time and author", async () => {
    const { rows, oldRows } = await migrateWith(
      `INSERT INTO setting (key, value, updated_at, updated_by)
       VALUES ('breaker', '{"quiet_period_seconds": 120, "reset_approvals": 2}'::jsonb, '2026-03-01T10:00:00Z', $1::jsonb)`,
      [JSON.stringify(alice)]
    )
    expect(rows.map((r) => [r.key, r.version, r.value])).toEqual([
      ["breaker.quiet_period_seconds", 1, 120],
      ["breaker.reset_approvals", 1, 2]
    ])
    for (const r of rows) {
      expect(r.changed_at.toISOString()).toBe("2026-03-01T10:00:00.000Z")
      expect(r.changed_by).toEqual(alice)
      expect(r.reason).toContain("migration 0006")
    }
    expect(oldRows).toBe(1)
  })

  it("moves only the fields present; an author-less row is credited to the migration", async () => {
    const { rows } = await migrateWith(
      `INSERT INTO setting (key, value) VALUES ('breaker', '{"quiet_period_seconds": 0, "other": true}'::jsonb)`
    )
    expect(rows.map((r) => [r.key, r.value])).toEqual([["breaker.quiet_period_seconds", 0]])
    expect(rows[0]?.changed_by).toEqual({ type: "system", id: "system:migration", name: "migration" })
  })

  it("moves nothing without a breaker row, or when its value is not an object", async () => {
    expect((await migrateWith("")).rows).toEqual([])
    expect((await migrateWith(`INSERT INTO setting (key, value) VALUES ('breaker', '[1, 2]'::jsonb)`)).rows).toEqual([])
  })
})
