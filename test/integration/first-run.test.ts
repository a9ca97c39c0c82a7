/**
 * The first administrator: created only when no user exists, from BREAKWATER_ADMIN_EMAIL (default
 * admin@localhost) and BREAKWATER_ADMIN_PASSWORD; without a password one is generated and logged
 * once, at warn level. Audited; safe when replicas start together.
 */
import { PgClient } from "@effect/sql-pg"
import { Effect, Layer, Logger, Option, Redacted, References } from "effect"
import { SqlClient } from "effect/sql"
import { describe, expect, it } from "vitest"
import { Audit } from "../../src/core/audit/audit.ts"
import { verifyPassword } from "../../src/core/auth/passwords.ts"
import { Users } from "../../src/core/auth/users.ts"
import { AppConfig } from "../../src/core/config.ts"
import { Metrics } from "../../src/core/observability/metrics.ts"
import { Supervisor } from "../../src/core/supervisor.ts"
import { ensureFirstAdmin } from "../../src/plugins/identity/first-run.ts"
import { createTestStores } from "../support/database.ts"

interface Logged {
  readonly level: string
  readonly message: string
}

const layerFor = (url: string, env: Record<string, string>) =>
  Users.layer.pipe(
    Layer.provideMerge(Audit.layer),
    Layer.provideMerge(Supervisor.layer),
    Layer.provideMerge(Metrics.layer),
    Layer.provideMerge(PgClient.layer({ url: Redacted.make(url), maxConnections: 4 })),
    Layer.provideMerge(AppConfig.layerFrom(env))
  )

/** Runs `program` against the database, returning its result and every log line it wrote. */
const run = async <A, E>(
  url: string,
  env: Record<string, string>,
  program: Effect.Effect<A, E, Users | SqlClient.SqlClient | AppConfig>
) => {
  const logs: Array<Logged> = []
  const capture = Logger.make((options) => {
    const parts = Array.isArray(options.message) ? options.message : [options.message]
    logs.push({ level: options.logLevel, message: parts.map(String).join(" ") })
  })
  const result = await Effect.runPromise(
    program.pipe(
      Effect.provide(layerFor(url, env)),
      Effect.provide(Logger.layer([capture])),
      Effect.provideService(References.MinimumLogLevel, "Info"),
      Effect.scoped
    )
  )
  return { result, logs: logs.filter((l) => l.message.includes("administrator")) }
}

const admins = Effect.flatMap(
  SqlClient.SqlClient,
  (sql) => sql<{ email: string; role: string; password_hash: string }>`SELECT email, role, password_hash FROM users`
)

describe("first-run administrator", () => {
  it("generates a password when none is configured, logs it once at warn level, and audits the creation", async () => {
    const { databaseUrl } = await createTestStores()
    const first = await run(databaseUrl, {}, Effect.andThen(ensureFirstAdmin, admins))
    expect(first.result).toHaveLength(1)
    expect(first.result[0]).toMatchObject({ email: "admin@localhost", role: "admin" })
    expect(first.logs).toHaveLength(1)
    expect(first.logs[0]?.level).toBe("Warn")
    const password = /shown only this once\): (\S+) /.exec(first.logs[0]?.message ?? "")?.[1] ?? ""
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect(await Effect.runPromise(verifyPassword(first.result[0]?.password_hash ?? "", Redacted.make(password)))).toBe(
      true
    )

    // A second start finds the user: nothing created, nothing logged, the password never shown again.
    const second = await run(
      databaseUrl,
      {},
      Effect.andThen(
        ensureFirstAdmin,
        Effect.flatMap(
          SqlClient.SqlClient,
          (sql) =>
            sql<{ actor_id: string; details: Record<string, unknown> }>`
            SELECT actor_id, details FROM audit_log WHERE action = 'user.create'`
        )
      )
    )
    expect(second.logs).toEqual([])
    expect(second.result).toEqual([
      { actor_id: "system:first-run", details: { email: "admin@localhost", role: "admin" } }
    ])
    const count = await run(databaseUrl, {}, admins)
    expect(count.result).toHaveLength(1)
  })

  it("uses BREAKWATER_ADMIN_EMAIL and BREAKWATER_ADMIN_PASSWORD, and never logs the password", async () => {
    const { databaseUrl } = await createTestStores()
    const env = { BREAKWATER_ADMIN_EMAIL: "ops@example.com", BREAKWATER_ADMIN_PASSWORD: "configured-password" }
    const { result, logs } = await run(databaseUrl, env, Effect.andThen(ensureFirstAdmin, admins))
    expect(result.map((r) => r.email)).toEqual(["ops@example.com"])
    expect(logs).toHaveLength(1)
    expect(logs[0]?.level).toBe("Info")
    expect(logs[0]?.message).not.toContain("configured-password")
    const found = await run(
      databaseUrl,
      env,
      Effect.flatMap(Users, (u) => u.credentials("OPS@example.com"))
    )
    expect(Option.isSome(found.result)).toBe(true)
  })

  it("creates one administrator when replicas start together", async () => {
    const { databaseUrl } = await createTestStores()
    const { result } = await run(
      databaseUrl,
      {},
      Effect.andThen(Effect.all([ensureFirstAdmin, ensureFirstAdmin, ensureFirstAdmin], { concurrency: 3 }), admins)
    )
    expect(result).toHaveLength(1)
  })
})
