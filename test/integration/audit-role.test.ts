/**
 * The documented least-privilege set-up (docs/RUNBOOKS/audit-log.md): the application's role may
 * insert and read audit rows but holds no UPDATE, DELETE or TRUNCATE on them, so it cannot even
 * try; and with every migration applied by the owner it starts (the migrator has nothing to do).
 */
import { randomBytes } from "node:crypto"
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { describe, expect, it } from "vitest"
import { migrate } from "../../src/core/db/migrator.ts"
import { createTestStores } from "../support/database.ts"

const onDatabase = <A, E>(url: string, effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.runPromiseExit(
    effect.pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 1 })), Effect.scoped)
  )

describe("least-privilege application role", () => {
  it("may append audit entries but is refused UPDATE, DELETE and TRUNCATE by permissions", async () => {
    const stores = await createTestStores()
    const role = `bw_app_${randomBytes(4).toString("hex")}`
    const setup = await onDatabase(
      stores.databaseUrl,
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        // The statements of the runbook, verbatim but for the names.
        for (const statement of [
          `CREATE ROLE ${role} LOGIN PASSWORD 'app-password'`,
          `GRANT CONNECT ON DATABASE ${stores.databaseName} TO ${role}`,
          `GRANT USAGE ON SCHEMA public TO ${role}`,
          `GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${role}`,
          `GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO ${role}`,
          `REVOKE UPDATE, DELETE, TRUNCATE ON audit_log, audit_seal FROM ${role}`
        ])
          yield* sql.unsafe(statement)
      })
    )
    expect(setup._tag).toBe("Success")
    const url = new URL(stores.databaseUrl)
    url.username = role
    url.password = "app-password"
    const asApp = url.toString()
    const outcome = await onDatabase(
      asApp,
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* migrate
        yield* sql`INSERT INTO audit_log (actor_type, actor_id, actor_name, action, resource_type, outcome)
          VALUES ('system', 'x', 'x', 'role.test', 'test', 'success')`
        const refused: Array<string> = []
        for (const statement of [
          "UPDATE audit_log SET reason = 'x'",
          "DELETE FROM audit_log",
          "TRUNCATE audit_log CASCADE",
          "DELETE FROM audit_seal"
        ]) {
          const exit = yield* Effect.exit(sql.unsafe(statement))
          if (exit._tag === "Failure" && String(exit).includes("permission denied")) refused.push(statement)
        }
        return refused
      })
    )
    expect(outcome._tag, String(outcome)).toBe("Success")
    if (outcome._tag === "Success") expect(outcome.value).toHaveLength(4)
    await onDatabase(
      stores.databaseUrl,
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql.unsafe(`DROP OWNED BY ${role}`)
        yield* sql.unsafe(`DROP ROLE ${role}`)
      })
    )
  })
})
