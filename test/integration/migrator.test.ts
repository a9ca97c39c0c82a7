import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { PgClient } from "@effect/sql-pg"
import { Effect, Exit, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { describe, expect, it } from "vitest"
import { migrateFrom } from "../../src/core/db/migrator.ts"
import { createEmptyDatabase } from "../support/database.ts"

const dirWith = (files: Record<string, string>) => {
  const dir = mkdtempSync(join(tmpdir(), "bw-migrations-"))
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
  return dir
}

const onDatabase = <A, E>(url: string, effect: Effect.Effect<A, E, SqlClient.SqlClient>, connections = 2) =>
  Effect.runPromiseExit(
    effect.pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: connections })), Effect.scoped)
  )

const tables = (url: string) =>
  onDatabase(
    url,
    Effect.flatMap(
      SqlClient.SqlClient,
      (sql) =>
        sql<{ tablename: string }>`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename`
    )
  )

describe("migrator", () => {
  it("applies numbered files in order, once, and records them", async () => {
    const db = await createEmptyDatabase()
    const dir = dirWith({
      "0001_a.sql": "CREATE TABLE a (id int PRIMARY KEY);\nINSERT INTO a VALUES (1);",
      "0002_b.sql": "CREATE TABLE b (a_id int REFERENCES a (id));"
    })
    const first = await onDatabase(db.url, migrateFrom(dir))
    expect(first).toEqual(Exit.succeed([1, 2]))
    const second = await onDatabase(db.url, migrateFrom(dir))
    expect(second).toEqual(Exit.succeed([]))
    writeFileSync(join(dir, "0003_c.sql"), "ALTER TABLE b ADD COLUMN note text;")
    expect(await onDatabase(db.url, migrateFrom(dir))).toEqual(Exit.succeed([3]))
    const names = await tables(db.url)
    expect(Exit.isSuccess(names) && names.value.map((t) => t.tablename)).toEqual(["a", "b", "breakwater_migrations"])
  })

  it("applies each file exactly once when several processes migrate at the same time", async () => {
    const db = await createEmptyDatabase()
    const dir = dirWith({ "0001_counter.sql": "CREATE TABLE counter (n int); INSERT INTO counter VALUES (1);" })
    const results = await Promise.all(Array.from({ length: 5 }, () => onDatabase(db.url, migrateFrom(dir))))
    const applied = results.map((r) => (Exit.isSuccess(r) ? r.value.length : -1))
    expect(applied.sort()).toEqual([0, 0, 0, 0, 1])
    const rows = await onDatabase(
      db.url,
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql<{ n: number }>`SELECT n FROM counter`)
    )
    expect(Exit.isSuccess(rows) && rows.value.length).toBe(1)
  })

  it("rolls back every pending file when one fails, and names it", async () => {
    const db = await createEmptyDatabase()
    const dir = dirWith({
      "0001_ok.sql": "CREATE TABLE ok (id int);",
      "0002_broken.sql": "CREATE TABLE broken (id int REFERENCES nowhere (id));"
    })
    const exit = await onDatabase(db.url, migrateFrom(dir))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(exit)).toContain("0002_broken")
    expect(String(exit)).toContain("nowhere")
    const names = await tables(db.url)
    expect(Exit.isSuccess(names) && names.value.map((t) => t.tablename)).toEqual([])
  })

  it("refuses to start when an applied file was changed", async () => {
    const db = await createEmptyDatabase()
    const dir = dirWith({ "0001_a.sql": "CREATE TABLE a (id int);" })
    expect(Exit.isSuccess(await onDatabase(db.url, migrateFrom(dir)))).toBe(true)
    writeFileSync(join(dir, "0001_a.sql"), "CREATE TABLE a (id bigint);")
    const exit = await onDatabase(db.url, migrateFrom(dir))
    expect(Exit.isFailure(exit)).toBe(true)
    expect(String(exit)).toContain("0001_a was changed after it was applied")
  })

  it("rejects a badly named file", async () => {
    const db = await createEmptyDatabase()
    const exit = await onDatabase(db.url, migrateFrom(dirWith({ "1_a.sql": "SELECT 1;" })))
    expect(String(exit)).toContain("must look like 0001_name.sql")
  })
})
