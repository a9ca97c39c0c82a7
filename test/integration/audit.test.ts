import { Effect } from "effect"
import { SqlClient } from "effect/sql"
import { beforeAll, describe, expect, it } from "vitest"
import { servicesLayer } from "../../src/app.ts"
import { Audit } from "../../src/core/audit/audit.ts"
import { sealPending, verifyChain } from "../../src/core/audit/chain.ts"
import { type AuditEntryInput, systemActor } from "../../src/core/audit/entry.ts"
import { AppConfig } from "../../src/core/config.ts"
import { Metrics } from "../../src/core/observability/metrics.ts"
import { createTestStores } from "../support/database.ts"

let url: string
beforeAll(async () => {
  url = (await createTestStores()).databaseUrl
})

/** Core as the server composes it, with only the essential fibers (the audit writer: no sealer). */
const layer = (database: string) =>
  servicesLayer([], AppConfig.layerFrom({ LOG_LEVEL: "fatal", DATABASE_URL: database }), {
    fibers: "essential",
    serving: false
  })

const run = <A, E>(effect: Effect.Effect<A, E, Audit | SqlClient.SqlClient | Metrics>, database = url) =>
  Effect.runPromise(Effect.scoped(Effect.provide(effect, layer(database))))

/** Each tampering case on a database of its own: the first bad link is the one it made. */
const onFreshChain = async (attack: (ids: ReadonlyArray<string>) => string | ReadonlyArray<string>) => {
  const database = (await createTestStores()).databaseUrl
  return run(
    Effect.gen(function* () {
      const audit = yield* Audit
      for (const a of ["t.1", "t.2", "t.3", "t.4"]) yield* audit.record(entry(a))
      while ((yield* sealPending) > 0) {}
      expect((yield* verifyChain).ok).toBe(true)
      const chain = yield* ids
      const statements = attack(chain)
      yield* tamper(typeof statements === "string" ? [statements] : statements)
      const result = yield* verifyChain
      if (result.ok) throw new Error("verify did not notice the tampering")
      return { chain, problem: result.problem }
    }),
    database
  )
}

const entry = (action: string, extra: Partial<AuditEntryInput> = {}): AuditEntryInput => ({
  actor: systemActor("test"),
  action,
  resourceType: "test",
  resourceId: "r1",
  outcome: "success",
  details: { nested: { b: 2, a: [1, "x"] } },
  ...extra
})

/** Simulates an attacker with superuser rights: triggers (and the foreign key) switched off. */
const tamper = (statements: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.withTransaction(
      Effect.gen(function* () {
        yield* sql.unsafe("ALTER TABLE audit_log DISABLE TRIGGER ALL")
        yield* sql.unsafe("ALTER TABLE audit_seal DISABLE TRIGGER ALL")
        for (const statement of statements) yield* sql.unsafe(statement)
        yield* sql.unsafe("ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only")
        yield* sql.unsafe("ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate")
        yield* sql.unsafe("ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_enqueue")
        yield* sql.unsafe("ALTER TABLE audit_seal ENABLE ALWAYS TRIGGER audit_seal_append_only")
        yield* sql.unsafe("ALTER TABLE audit_seal ENABLE ALWAYS TRIGGER audit_seal_no_truncate")
        yield* sql.unsafe("ALTER TABLE audit_log ENABLE TRIGGER ALL")
        yield* sql.unsafe("ALTER TABLE audit_seal ENABLE TRIGGER ALL")
      })
    )
  })

const ids = Effect.flatMap(SqlClient.SqlClient, (sql) =>
  Effect.map(sql<{ id: string }>`SELECT id::text AS id FROM audit_log ORDER BY id`, (rows) => rows.map((r) => r.id))
)

describe("audit log", () => {
  it("commits concurrent standalone entries in groups and the caller resumes after commit", () =>
    run(
      Effect.gen(function* () {
        const audit = yield* Audit
        const sql = yield* SqlClient.SqlClient
        const before = (yield* ids).length
        yield* Effect.forEach(
          Array.from({ length: 300 }, (_, i) => entry(`group.${i % 3}`)),
          (e) => audit.record(e),
          {
            concurrency: "unbounded"
          }
        )
        // Durable on return: a fresh query sees all of them.
        const [row] = yield* sql<{ n: string }>`SELECT count(*)::text AS n FROM audit_log`
        expect(Number(row?.n) - before).toBe(300)
        const text = yield* (yield* Metrics).render
        expect(text).toMatch(/audit_events_total\{event_type="group.0",outcome="success"\} 100/)
        expect(text).toContain('audit_write_latency_seconds_bucket{le="0.01"}')
      })
    ))

  it("writes in-transaction entries with the change, and not at all when it rolls back", () =>
    run(
      Effect.gen(function* () {
        const audit = yield* Audit
        const sql = yield* SqlClient.SqlClient
        yield* sql.withTransaction(audit.recordInTransaction(entry("tx.committed")))
        const failed = yield* Effect.exit(
          sql.withTransaction(
            audit.recordInTransaction(entry("tx.rolled_back")).pipe(Effect.andThen(Effect.fail("boom")))
          )
        )
        expect(failed._tag).toBe("Failure")
        const rows = yield* sql<{ action: string }>`SELECT action FROM audit_log WHERE action LIKE 'tx.%'`
        expect(rows.map((r) => r.action)).toEqual(["tx.committed"])
      })
    ))

  it("refuses UPDATE, DELETE and TRUNCATE, even with replica triggers disabled", () =>
    run(
      Effect.gen(function* () {
        const audit = yield* Audit
        const sql = yield* SqlClient.SqlClient
        yield* audit.record(entry("immutable"))
        for (const statement of [
          "UPDATE audit_log SET reason = 'edited'",
          "DELETE FROM audit_log",
          "TRUNCATE audit_log CASCADE",
          "SET session_replication_role = replica; UPDATE audit_log SET reason = 'edited'"
        ]) {
          const exit = yield* Effect.exit(
            sql.withTransaction(Effect.forEach(statement.split("; "), (s) => sql.unsafe(s)))
          )
          expect(exit._tag, statement).toBe("Failure")
          expect(String(exit)).toContain("append-only")
        }
      })
    ))

  it("seals entries into a chain that verifies", () =>
    run(
      Effect.gen(function* () {
        const audit = yield* Audit
        yield* audit.record(entry("chain.a"))
        while ((yield* sealPending) > 0) {}
        const result = yield* verifyChain
        expect(result).toMatchObject({ ok: true, pending: 0 })
        expect(result.sealed).toBeGreaterThan(300)
      })
    ))

  describe("verify names the first tampered entry", () => {
    it("an edited entry", async () => {
      const { chain, problem } = await onFreshChain(
        (c) => `UPDATE audit_log SET reason = 'nothing to see' WHERE id = ${c[1]}`
      )
      expect(problem).toEqual({
        seq: 2,
        entryId: chain[1],
        message: `entry ${chain[1]} was changed after it was sealed`
      })
    })

    it("an edited detail, even one nested deep in the JSON", async () => {
      const { chain, problem } = await onFreshChain(
        (c) => `UPDATE audit_log SET details = jsonb_set(details, '{nested,b}', '3') WHERE id = ${c[2]}`
      )
      expect(problem.entryId).toBe(chain[2])
    })

    it("a deleted entry", async () => {
      const { chain, problem } = await onFreshChain((c) => `DELETE FROM audit_log WHERE id = ${c[0]}`)
      expect(problem).toEqual({ seq: 1, entryId: chain[0], message: `entry ${chain[0]} was deleted` })
    })

    it("a deleted entry together with its seal", async () => {
      const { problem } = await onFreshChain(
        (c) =>
          `DELETE FROM audit_seal WHERE entry_id = ${c[1]}; DELETE FROM audit_log WHERE id = ${c[1]}`.split("; ")[0]!
      )
      expect(problem.seq).toBe(3)
      expect(problem.message).toContain("chain position 2 is missing")
    })

    it("two entries swapped in the chain", async () => {
      const { chain, problem } = await onFreshChain((c) => [
        `UPDATE audit_seal SET entry_id = -1 WHERE entry_id = ${c[1]}`,
        `UPDATE audit_seal SET entry_id = ${c[1]} WHERE entry_id = ${c[2]}`,
        `UPDATE audit_seal SET entry_id = ${c[2]} WHERE entry_id = -1`
      ])
      expect(problem.seq).toBe(2)
      expect(problem.entryId).toBe(chain[2])
    })

    it("reordered seals", async () => {
      const { problem } = await onFreshChain(() => [
        "UPDATE audit_seal SET seq = 1000 WHERE seq = 2",
        "UPDATE audit_seal SET seq = 2 WHERE seq = 3",
        "UPDATE audit_seal SET seq = 3 WHERE seq = 1000"
      ])
      expect(problem.seq).toBe(2)
      expect(problem.message).toContain("does not follow the previous seal")
    })

    it("an entry slipped in without a seal", async () => {
      const { problem } = await onFreshChain(
        () =>
          "INSERT INTO audit_log (actor_type, actor_id, actor_name, action, resource_type, outcome) VALUES ('system', 'x', 'x', 'forged', 't', 'success')"
      )
      expect(problem.seq).toBeNull()
      expect(problem.message).toContain("was never sealed")
    })
  })
})
