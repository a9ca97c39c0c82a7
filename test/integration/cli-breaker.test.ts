/**
 * `breakwater breaker status|trip|reset|approve` as real processes against a test database and
 * Redis: status prints each scope and exits 0; trip and reset change the state (audited as the
 * CLI's system actor, or the user named by --as); a short reason or a bad scope exits 2 with one
 * line; a refused reset exits 1; four eyes from the shell compares the --as users; a state that
 * cannot be read makes status exit 3.
 */
import { Redis } from "ioredis"
import { beforeAll, describe, expect, it } from "vitest"
import { withSql } from "../support/admin-sql.ts"
import { createTestStores, type TestStores } from "../support/database.ts"
import { childEnv, nodeBinary, spawnChild } from "../support/processes.ts"

let stores: TestStores
beforeAll(async () => {
  stores = await createTestStores()
})

const REASON = "exchange connectivity lost, halting from the shell"

const cli = async (env: Record<string, string | undefined>, ...args: ReadonlyArray<string>) => {
  const child = spawnChild(nodeBinary, ["src/cli.ts", ...args], { env: childEnv({ LOG_LEVEL: "warn", ...env }) })
  const exit = await child.exited
  return { code: exit.code, stdout: child.stdout(), stderr: child.stderr() }
}

const breaker = (...args: ReadonlyArray<string>) =>
  cli(
    { DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, REDIS_KEY_PREFIX: stores.redisKeyPrefix },
    "breaker",
    ...args
  )

const query = <Row extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
  withSql(stores.databaseUrl, (sql) => sql.unsafe<Row>(text, params))

/** Each command is a process of its own (about 3 s to start), so these tests get more time. */
const SLOW = { timeout: 90_000 }

describe("breakwater breaker", () => {
  it("prints the state and trips the global scope as the CLI actor", SLOW, async () => {
    const open = await breaker("status")
    expect(open.code, open.stderr).toBe(0)
    expect(open.stdout).toMatch(/^global {2}OPEN {2}\(trading allowed\)/m)

    const tripped = await breaker("trip", "--scope", "global", "--reason", REASON)
    expect(tripped.code, tripped.stderr).toBe(0)
    expect(tripped.stdout).toContain("tripped global")
    const [row] = await query<{ state: string; trip_reason: string }>(
      "SELECT state, trip_reason FROM breaker_scope WHERE scope = 'global'"
    )
    expect(row).toMatchObject({ state: "TRIPPED", trip_reason: REASON })
    const [transition] = await query<{ actor: { id: string }; kind: string }>(
      "SELECT actor, kind FROM breaker_transition WHERE scope = 'global' ORDER BY id DESC LIMIT 1"
    )
    expect(transition).toMatchObject({ kind: "trip", actor: { id: "system:cli" } })
    // Published for the execution services, as a trip from the console would be.
    const redis = new Redis(stores.redisUrl)
    try {
      const published = await redis.get(`${stores.redisKeyPrefix}circuit_breaker:state`)
      expect(JSON.parse(published ?? "{}")).toMatchObject({ scope: "global", state: "TRIPPED", trip_reason: REASON })
    } finally {
      redis.disconnect()
    }

    const status = await breaker("status", "--json")
    expect(status.code, status.stderr).toBe(0)
    const parsed = JSON.parse(status.stdout.trim().split("\n").at(-1) ?? "{}") as {
      state: string
      scopes: Array<{ scope: string; trip_reason: string }>
    }
    expect(parsed.state).toBe("TRIPPED")
    expect(parsed.scopes[0]).toMatchObject({ scope: "global", trip_reason: REASON })
  })

  it("resets the tripped scope into its quiet period; a second reset is refused with exit 1", SLOW, async () => {
    const reset = await breaker("reset", "--scope", "global", "--reason", "connectivity restored and verified")
    expect(reset.code, reset.stderr).toBe(0)
    expect(reset.stdout).toContain("reset global: QUIET_PERIOD")
    expect((await breaker("status", "--scope", "global")).stdout).toMatch(/^global {2}QUIET_PERIOD/m)

    const again = await breaker("reset", "--scope", "global", "--reason", "connectivity restored and verified")
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/^breakwater: refused: /)
    expect(again.stderr.trim().split("\n")).toHaveLength(1)
  })

  it("refuses a short reason, a bad scope name and an unknown scope with one line and exit 2", SLOW, async () => {
    const version = async () =>
      (await query<{ version: string }>("SELECT version::text AS version FROM breaker_scope WHERE scope = 'global'"))[0]
        ?.version
    const before = await version()
    const short = await breaker("trip", "--scope", "global", "--reason", "too short")
    expect(short.code).toBe(2)
    expect(short.stderr.trim()).toBe("breakwater: --reason: must be at least 20 characters")
    const badName = await breaker("trip", "--scope", "Bad Scope", "--reason", REASON)
    expect(badName.code).toBe(2)
    expect(badName.stderr).toContain("--scope")
    const unknown = await breaker("status", "--scope", "no-such-scope")
    expect(unknown.code).toBe(2)
    expect(unknown.stderr.trim().split("\n")).toHaveLength(1)
    expect(await version()).toBe(before)
  })

  it(
    "four eyes from the shell: a request names a person with --as, who cannot approve it; another can",
    SLOW,
    async () => {
      const person = async (email: string, role: string) =>
        (
          await query<{ id: string }>(
            "INSERT INTO users (email, display_name, role, password_hash) VALUES ($1, $1, $2, 'x') RETURNING id",
            [email, role]
          )
        )[0]?.id
      await person("ann@shell.test", "operator")
      await person("bob@shell.test", "operator")
      await person("vic@shell.test", "viewer")
      await query(
        `INSERT INTO setting_version (key, version, value, changed_by)
         SELECT 'breaker.reset_approvals', coalesce(max(version), 0) + 1, '2'::jsonb, '{"type":"system","id":"system:test","name":"test"}'::jsonb
         FROM setting_version WHERE key = 'breaker.reset_approvals'`
      )
      await query(
        "INSERT INTO breaker_scope (scope, state, version, created_at, updated_at) VALUES ('shell', 'OPEN', 1, now(), now())"
      )
      expect((await breaker("trip", "--scope", "shell", "--reason", REASON)).code).toBe(0)
      const why = "gateway fixed, orders verified by the desk"

      const nobody = await breaker("reset", "--scope", "shell", "--reason", why)
      expect(nobody.code).toBe(1)
      expect(nobody.stderr).toMatch(/needs a named person/)
      const requested = await breaker("reset", "--scope", "shell", "--reason", why, "--as", "ann@shell.test")
      expect(requested.code, requested.stderr).toBe(0)
      const id = /request ([0-9a-f-]{36})/.exec(requested.stdout)?.[1] ?? ""
      expect(id).not.toBe("")

      const self = await breaker("approve", "--scope", "shell", "--request", id, "--as", "ann@shell.test")
      expect(self.code).toBe(1)
      expect(self.stderr).toMatch(/different person/)
      const viewer = await breaker("approve", "--scope", "shell", "--request", id, "--as", "vic@shell.test")
      expect(viewer.code).toBe(2)
      expect(viewer.stderr).toMatch(/may not reset/)
      const approved = await breaker("approve", "--scope", "shell", "--request", id, "--as", "bob@shell.test")
      expect(approved.code, approved.stderr).toBe(0)
      expect(approved.stdout).toContain("approved: shell reset to QUIET_PERIOD")
      const [entry] = await query<{ actor_id: string; actor_name: string }>(
        "SELECT actor_id, actor_name FROM audit_log WHERE action = 'breaker.reset_approved' ORDER BY id DESC LIMIT 1"
      )
      expect(entry?.actor_name).toBe("bob@shell.test (cli)")
    }
  )

  it("exits 3 when the state cannot be read", SLOW, async () => {
    const broken = await createTestStores()
    await withSql(broken.databaseUrl, (sql) => sql.unsafe("ALTER TABLE breaker_scope RENAME TO breaker_scope_hidden"))
    const status = await cli({ DATABASE_URL: broken.databaseUrl, REDIS_URL: undefined }, "breaker", "status")
    expect(status.code, `${status.stdout}\n${status.stderr}`).toBe(3)
    expect(status.stdout).toContain("UNKNOWN")
  })
})
