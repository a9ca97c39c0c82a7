/**
 * `breakwater retention run` as a real process against a test database: `--dry-run` prints the
 * counts and deletes nothing (exit 0); a real run deletes exactly those rows and is audited as the
 * CLI; an unknown `--job` is a misuse (exit 2, one line).
 */
import { beforeAll, describe, expect, it } from "vitest"
import { withSql } from "../support/admin-sql.ts"
import { createTestStores, type TestStores } from "../support/database.ts"
import { childEnv, nodeBinary, spawnChild } from "../support/processes.ts"

let stores: TestStores
let userId: string | undefined
beforeAll(async () => {
  stores = await createTestStores()
  const [user] = await query<{ id: string }>(
    "INSERT INTO users (email, display_name, role, password_hash) VALUES ('cli@retention.test', 'cli', 'viewer', 'x') RETURNING id"
  )
  userId = user?.id
  for (const [hash, expires] of [
    ["expired-1", "now() - interval '2 days'"],
    ["expired-2", "now() - interval '1 minute'"],
    ["live", "now() + interval '1 hour'"]
  ])
    await query(`INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, 'x', ${expires})`, [
      hash,
      userId
    ])
})

const query = <Row extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
  withSql(stores.databaseUrl, (sql) => sql.unsafe<Row>(text, params))

const retention = async (...args: ReadonlyArray<string>) => {
  const child = spawnChild(nodeBinary, ["src/cli.ts", "retention", ...args], {
    env: childEnv({ LOG_LEVEL: "warn", DATABASE_URL: stores.databaseUrl, REDIS_URL: undefined })
  })
  const exit = await child.exited
  return { code: exit.code, stdout: child.stdout(), stderr: child.stderr() }
}

const sessions = async () =>
  (await query<{ id_hash: string }>("SELECT id_hash FROM sessions ORDER BY id_hash")).map((r) => r.id_hash)

/** Each command is a process of its own (a few seconds to start). */
const SLOW = { timeout: 90_000 }

describe("breakwater retention run", () => {
  it(
    "--dry-run prints the rows due per job and deletes nothing; the real run deletes exactly those",
    SLOW,
    async () => {
      const dry = await retention("run", "--dry-run")
      expect(dry.code, dry.stderr).toBe(0)
      const lines = dry.stdout.split("\n")
      expect(lines.some((l) => /^job +table +period \(days\) +cutoff +due$/.test(l))).toBe(true)
      expect(
        lines.some((l) => /^identity\.expired_sessions +sessions +0 +\S+Z +2$/.test(l)),
        dry.stdout
      ).toBe(true)
      expect(dry.stdout).toMatch(/^dry run: \d+ rows due in \d+ jobs; nothing was deleted$/m)
      expect(await sessions()).toEqual(["expired-1", "expired-2", "live"])

      const real = await retention("run", "--job", "identity.expired_sessions")
      expect(real.code, real.stderr).toBe(0)
      expect(real.stdout).toMatch(/^identity\.expired_sessions +sessions +0 +\S+Z +2$/m)
      expect(real.stdout).toMatch(/^deleted 2 rows in 1 jobs$/m)
      expect(await sessions()).toEqual(["live"])
      const entries = await query<{ actor_id: string; details: { jobs: ReadonlyArray<{ count: number }> } }>(
        "SELECT actor_id, details FROM audit_log WHERE action = 'retention.run'"
      )
      expect(entries).toHaveLength(1)
      expect(entries[0]?.actor_id).toBe("system:cli")
      expect(entries[0]?.details.jobs.map((j) => j.count)).toEqual([2])
    }
  )

  it("refuses an unknown --job with one line and exit 2", SLOW, async () => {
    const result = await retention("run", "--dry-run", "--job", "nobody.nothing")
    expect(result.code).toBe(2)
    expect(result.stderr.trim()).toMatch(
      /^breakwater: --job: no retention job named nobody\.nothing \(known: [^\n]*identity\.expired_sessions[^\n]*\)$/
    )
  })
})
