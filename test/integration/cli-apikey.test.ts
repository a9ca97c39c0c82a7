/**
 * `breakwater apikey …` and `breakwater audit verify` as real processes against a test database:
 * the key alone on the last line and working; list without secrets; revoke; bad input exits 2;
 * verify exits 0 on an intact chain and 1 naming the entry after tampering.
 */
import { Effect } from "effect"
import { beforeAll, describe, expect, it } from "vitest"
import { API_KEY_PATTERN, parseApiKey, secretMatches } from "../../src/core/auth/api-key-format.ts"
import { withSql } from "../support/admin-sql.ts"
import { createTestStores, type TestStores } from "../support/database.ts"
import { childEnv, nodeBinary, spawnChild } from "../support/processes.ts"

let stores: TestStores
beforeAll(async () => {
  stores = await createTestStores()
})

const cli = async (...args: ReadonlyArray<string>) => {
  const child = spawnChild(nodeBinary, ["src/cli.ts", ...args], {
    env: childEnv({ DATABASE_URL: stores.databaseUrl, REDIS_URL: undefined, LOG_LEVEL: "warn" })
  })
  const exit = await child.exited
  return { code: exit.code, stdout: child.stdout(), stderr: child.stderr() }
}

const query = <Row extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
  withSql(stores.databaseUrl, (sql) => sql.unsafe<Row>(text, params))

describe("breakwater apikey", () => {
  it("creates a key for the first admin and prints it alone on the last line", async () => {
    const owner = await cli(
      "user",
      "add",
      "--email",
      "ops@test.local",
      "--role",
      "admin",
      "--password",
      "ops-password-1234"
    )
    expect(owner.code, owner.stderr).toBe(0)
    const result = await cli(
      "apikey",
      "create",
      "--name",
      "exec service",
      "--scopes",
      "VIEW_DASHBOARD,VIEW_AUDIT",
      "--expires-in",
      "30d"
    )
    expect(result.code, result.stderr).toBe(0)
    const key = result.stdout.trim().split("\n").at(-1) ?? ""
    expect(key).toMatch(API_KEY_PATTERN)
    expect(result.stdout.split(key)).toHaveLength(2)
    const parsed = parseApiKey(key)
    const [row] = await query<{ secret_hash: string; name: string; scopes_json: unknown }>(
      "SELECT secret_hash, name, array_to_json(scopes) AS scopes_json FROM api_keys WHERE id = $1",
      [parsed?.id]
    )
    expect(row?.name).toBe("exec service")
    expect(parsed !== undefined && row !== undefined && secretMatches(parsed.secret, row.secret_hash)).toBe(true)
    const audit = await query<{ actor_id: string }>(
      "SELECT actor_id FROM audit_log WHERE action = 'api_key.create' AND resource_id = $1",
      [parsed?.id]
    )
    expect(audit.map((a) => a.actor_id)).toEqual(["system:cli"])

    const list = await cli("apikey", "list")
    expect(list.stdout).toContain(parsed?.id)
    expect(list.stdout).not.toContain(key)

    const revoke = await cli("apikey", "revoke", parsed?.id ?? "")
    expect(revoke.code, revoke.stderr).toBe(0)
    const [revoked] = await query<{ revoked_at: Date | null }>("SELECT revoked_at FROM api_keys WHERE id = $1", [
      parsed?.id
    ])
    expect(revoked?.revoked_at).not.toBeNull()
  })

  it("refuses bad input with one line and exit 2", async () => {
    const badExpiry = await cli(
      "apikey",
      "create",
      "--name",
      "x",
      "--scopes",
      "VIEW_DASHBOARD",
      "--expires-in",
      "forever"
    )
    expect(badExpiry.code).toBe(2)
    expect(badExpiry.stderr).toContain("--expires-in forever")
    const badScope = await cli("apikey", "create", "--name", "x", "--scopes", "ROOT", "--expires-in", "1d")
    expect(badScope.code).toBe(2)
    expect(badScope.stderr).toContain("ROOT is not a permission")
    const unknown = await cli("apikey", "revoke", "AAAAAAAAAAAA")
    expect(unknown.code).toBe(2)
  })
})

describe("breakwater audit verify", () => {
  it("exits 0 on an intact chain and 1 naming the first tampered entry", async () => {
    const intact = await cli("audit", "verify")
    expect(intact.code, intact.stderr).toBe(0)
    expect(intact.stdout).toMatch(/audit chain intact: \d+ entries sealed, 0 pending/)
    const [entry] = await query<{ id: string }>("SELECT id::text AS id FROM audit_log ORDER BY id LIMIT 1")
    await withSql(stores.databaseUrl, (sql) =>
      sql.withTransaction(
        Effect.gen(function* () {
          yield* sql.unsafe("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
          yield* sql.unsafe(`UPDATE audit_log SET actor_name = 'someone else' WHERE id = ${entry?.id}`)
          yield* sql.unsafe("ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only")
        })
      )
    )
    const broken = await cli("audit", "verify")
    expect(broken.code).toBe(1)
    expect(broken.stderr).toContain(`entry ${entry?.id} was changed after it was sealed`)
  })
})
