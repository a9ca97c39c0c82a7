/**
 * `breakwater user …` as a real process against a test database: a generated password printed
 * once, alone on the last line; role changes and disabling end sessions; every change audited
 * with the system actor `cli`; mistakes exit 2 with one line on stderr.
 */
import { Effect, Redacted } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { verifyPassword } from "../../src/core/auth/passwords.ts"
import { withSql } from "../support/admin-sql.ts"
import { createTestStores, type TestStores } from "../support/database.ts"
import { childEnv, nodeBinary, spawnChild } from "../support/processes.ts"

let stores: TestStores
beforeAll(async () => {
  stores = await createTestStores()
})

const cli = async (...args: ReadonlyArray<string>) => {
  const child = spawnChild(nodeBinary, ["src/cli.ts", "user", ...args], {
    env: childEnv({ DATABASE_URL: stores.databaseUrl, REDIS_URL: undefined, LOG_LEVEL: "warn" })
  })
  const exit = await child.exited
  return { code: exit.code, stdout: child.stdout(), stderr: child.stderr() }
}

const query = <Row extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
  withSql(stores.databaseUrl, (sql) => sql.unsafe<Row>(text, params))

const userRow = async (email: string) =>
  (
    await query<{ id: string; role: string; disabled: boolean; password_hash: string; display_name: string }>(
      "SELECT id, role, disabled, password_hash, display_name FROM users WHERE lower(email) = lower($1)",
      [email]
    )
  )[0]

const audited = (action: string, resourceId: string) =>
  query<{ actor_type: string; actor_id: string }>(
    "SELECT actor_type, actor_id FROM audit_log WHERE action = $1 AND resource_id = $2",
    [action, resourceId]
  )

const addSession = (userId: string, idHash: string) =>
  query(
    "INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, 't', now() + interval '1 hour')",
    [idHash, userId]
  )

describe("breakwater user", () => {
  it("add: generates a password, prints it once on the last line, and audits as cli", async () => {
    const result = await cli("add", "--email", "Carol@Test.local", "--role", "operator", "--name", "Carol")
    expect(result.code, result.stderr).toBe(0)
    const lines = result.stdout.trim().split("\n")
    expect(lines[0]).toBe("created Carol@Test.local (Carol), role operator")
    expect(lines.at(-2)).toContain("shown only this once")
    const password = lines.at(-1) ?? ""
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/)
    expect(result.stdout.split(password)).toHaveLength(2) // printed exactly once
    const row = await userRow("carol@test.local")
    expect(row).toMatchObject({ role: "operator", disabled: false, display_name: "Carol" })
    expect(await Effect.runPromise(verifyPassword(row?.password_hash ?? "", Redacted.make(password)))).toBe(true)
    expect(await audited("user.create", row?.id ?? "")).toEqual([{ actor_type: "system", actor_id: "system:cli" }])
  }, 60_000)

  it("refuses a duplicate email, a short password and an unknown role with exit 2", async () => {
    const duplicate = await cli(
      "add",
      "--email",
      "carol@test.local",
      "--role",
      "viewer",
      "--password",
      "long-enough-pass"
    )
    expect(duplicate.code).toBe(2)
    expect(duplicate.stderr).toContain("already exists")
    const short = await cli("add", "--email", "dave@test.local", "--role", "viewer", "--password", "short")
    expect(short.code).toBe(2)
    expect(short.stderr).toContain("--password: must be at least 12 characters")
    const role = await cli("add", "--email", "dave@test.local", "--role", "root")
    expect(role.code).not.toBe(0)
    expect(await userRow("dave@test.local")).toBeUndefined()
  }, 60_000)

  it("role and disable change the user, end their sessions and are audited; passwd sets a given password", async () => {
    const row = await userRow("carol@test.local")
    const id = row?.id ?? ""
    await addSession(id, "a".repeat(64))
    const role = await cli("role", "--email", "carol@test.local", "--role", "viewer")
    expect(role.code, role.stderr).toBe(0)
    expect((await userRow("carol@test.local"))?.role).toBe("viewer")
    expect(await query("SELECT id_hash FROM sessions WHERE user_id = $1", [id])).toEqual([])
    expect(await audited("user.role_change", id)).toHaveLength(1)

    await addSession(id, "b".repeat(64))
    const disable = await cli("disable", "--email", "carol@test.local")
    expect(disable.code, disable.stderr).toBe(0)
    expect((await userRow("carol@test.local"))?.disabled).toBe(true)
    expect(await query("SELECT id_hash FROM sessions WHERE user_id = $1", [id])).toEqual([])
    expect(await audited("user.disable", id)).toEqual([{ actor_type: "system", actor_id: "system:cli" }])

    const passwd = await cli("passwd", "--email", "carol@test.local", "--password", "a-brand-new-password")
    expect(passwd.code, passwd.stderr).toBe(0)
    expect(passwd.stdout).not.toContain("a-brand-new-password")
    const hash = (await userRow("carol@test.local"))?.password_hash ?? ""
    expect(await Effect.runPromise(verifyPassword(hash, Redacted.make("a-brand-new-password")))).toBe(true)
    expect(await audited("user.password_change", id)).toHaveLength(1)

    const missing = await cli("disable", "--email", "nobody@test.local")
    expect(missing.code).toBe(2)
    expect(missing.stderr).toContain("there is no user nobody@test.local")
  }, 90_000)
})

describe("help", () => {
  const run = async (...args: ReadonlyArray<string>) => {
    const child = spawnChild(nodeBinary, ["src/cli.ts", ...args], {
      env: childEnv({ DATABASE_URL: stores.databaseUrl, REDIS_URL: undefined, LOG_LEVEL: "warn" })
    })
    const exit = await child.exited
    return { code: exit.code, out: child.stdout() + child.stderr() }
  }

  it("a bare command group and the word help print the usage and exit 0; an unknown subcommand is one line, exit 2", async () => {
    const bare = await run("user")
    expect(bare.code).toBe(0)
    expect(bare.out).toContain("breakwater user <subcommand>")
    const help = await run("help")
    expect(help.code).toBe(0)
    expect(help.out).toContain("breakwater <subcommand>")
    const helpUser = await run("help", "user")
    expect(helpUser.code).toBe(0)
    expect(helpUser.out).toContain("breakwater user <subcommand>")
    const unknown = await run("user", "frobnicate")
    expect(unknown.code).toBe(2)
    const lines = unknown.out.trim().split("\n")
    expect(lines).toHaveLength(2)
    expect(lines[0]).toContain('Unknown subcommand "frobnicate"')
    expect(lines[1]).toBe("Run `breakwater user --help` for its usage.")
  })
})
