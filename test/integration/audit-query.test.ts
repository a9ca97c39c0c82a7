/** Reading the audit log: each filter, and keyset pagination that visits every entry once. */
import { PgClient } from "@effect/sql-pg"
import { Effect, Redacted } from "effect"
import type { SqlClient } from "effect/sql"
import { beforeAll, describe, expect, it } from "vitest"
import type { AuditEntryInput } from "../../src/core/audit/entry.ts"
import { type AuditFilter, listEntries } from "../../src/core/audit/query.ts"
import { insertEntries } from "../../src/core/audit/store.ts"
import { createTestStores } from "../support/database.ts"

let url: string
const run = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.runPromise(
    effect.pipe(Effect.provide(PgClient.layer({ url: Redacted.make(url), maxConnections: 2 })), Effect.scoped)
  )

const make = (i: number): AuditEntryInput => ({
  actor: i % 2 === 0 ? { type: "user", id: "u-ann", name: "ann" } : { type: "api_key", id: "key1", name: "deploy bot" },
  action: i % 3 === 0 ? "login.success" : i % 3 === 1 ? "login.failure" : "breaker.trip",
  resourceType: i % 3 === 2 ? "breaker" : "session",
  resourceId: i % 3 === 2 ? "global" : undefined,
  outcome: i % 5 === 0 ? "denied" : "success",
  reason: `entry ${i}`
})

beforeAll(async () => {
  url = (await createTestStores()).databaseUrl
  await run(insertEntries(Array.from({ length: 60 }, (_, i) => make(i))))
})

const list = (filter: AuditFilter) => run(listEntries(filter))

describe("audit query", () => {
  it("returns the newest entries first, a page at a time", async () => {
    const first = await list({ limit: 10 })
    expect(first.entries).toHaveLength(10)
    expect(first.entries[0]?.reason).toBe("entry 59")
    const ids = first.entries.map((e) => Number(e.id))
    expect([...ids].sort((a, b) => b - a)).toEqual(ids)
    expect(first.nextCursor).toBe(first.entries[9]?.id)
  })

  it("visits every entry exactly once when following the cursor", async () => {
    const seen: Array<string> = []
    let cursor: string | undefined
    do {
      const page = await list({ limit: 7, ...(cursor === undefined ? {} : { cursor }) })
      seen.push(...page.entries.map((e) => e.id))
      cursor = page.nextCursor
    } while (cursor !== undefined)
    expect(seen).toHaveLength(60)
    expect(new Set(seen).size).toBe(60)
  })

  it("filters by actor (id or name), action (exact or prefix), resource and outcome", async () => {
    expect((await list({ actor: "u-ann", limit: 500 })).entries).toHaveLength(30)
    expect((await list({ actor: "deploy bot", limit: 500 })).entries).toHaveLength(30)
    expect((await list({ action: "breaker.trip", limit: 500 })).entries).toHaveLength(20)
    expect((await list({ action: "login.*", limit: 500 })).entries).toHaveLength(40)
    expect((await list({ resourceType: "breaker", resourceId: "global", limit: 500 })).entries).toHaveLength(20)
    const denied = (await list({ outcome: "denied", limit: 500 })).entries
    expect(denied).toHaveLength(12)
    expect(denied.every((e) => e.outcome === "denied")).toBe(true)
    expect((await list({ actor: "u-ann", outcome: "denied", limit: 500 })).entries).toHaveLength(6)
  })

  it("treats % and _ in an action prefix literally", async () => {
    expect((await list({ action: "login_%.*", limit: 500 })).entries).toHaveLength(0)
  })

  it("filters by time range", async () => {
    const all = (await list({ limit: 500 })).entries
    const future = new Date(Date.now() + 60_000).toISOString()
    expect((await list({ from: future, limit: 500 })).entries).toHaveLength(0)
    expect((await list({ to: future, limit: 500 })).entries).toHaveLength(all.length)
    const newest = all[0]!.occurredAt
    expect((await list({ from: newest, limit: 500 })).entries.every((e) => e.occurredAt >= newest)).toBe(true)
  })
})
