/**
 * A fresh database per test file, cloned from the migrated template (fast: a file copy, no
 * migrations), and a Redis key prefix of its own, so test files run in parallel.
 */
import { randomBytes } from "node:crypto"
import { Effect } from "effect"
import { inject } from "vitest"
import { databaseUrl, ident, withAdminSql } from "./admin-sql.ts"
import { redisUrl } from "./services.ts"

export interface TestStores {
  readonly databaseUrl: string
  readonly databaseName: string
  readonly redisUrl: string
  readonly redisKeyPrefix: string
}

/** Creates the database; the run's teardown drops it (and `dropDatabase` can do so earlier). */
export const createTestStores = async (): Promise<TestStores> => {
  const name = `${inject("runPrefix")}_${randomBytes(4).toString("hex")}`
  const template = inject("templateDatabase")
  await withAdminSql((sql) => sql.unsafe(`CREATE DATABASE ${ident(name)} TEMPLATE ${ident(template)}`))
  return {
    databaseUrl: databaseUrl(name),
    databaseName: name,
    redisUrl,
    redisKeyPrefix: `test:${name}:`
  }
}

export const dropDatabase = (name: string): Promise<void> =>
  withAdminSql((sql) => Effect.asVoid(sql.unsafe(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`)))

/** An empty database (no migrations), for testing the migrator itself. */
export const createEmptyDatabase = async (): Promise<{ readonly url: string; readonly name: string }> => {
  const name = `${inject("runPrefix")}_${randomBytes(4).toString("hex")}`
  await withAdminSql((sql) => sql.unsafe(`CREATE DATABASE ${ident(name)}`))
  return { url: databaseUrl(name), name }
}
