/**
 * The audit writer under load: 1,000 concurrent fibers record entries for a few seconds against
 * local PostgreSQL. Group commit (the writer actor) against a baseline of one INSERT per entry
 * on the same pool, in the same run. Target: ≥ 30,000 durable entries/s, p99 ≤ 50 ms, ≥ 5×.
 */
import { PgClient } from "@effect/sql-pg"
import { Clock, Effect, Layer, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { Audit } from "../../src/core/audit/audit.ts"
import { type AuditEntryInput, systemActor } from "../../src/core/audit/entry.ts"
import { insertEntries } from "../../src/core/audit/store.ts"
import { migrateFrom, migrationsDirectory } from "../../src/core/db/migrator.ts"
import { Metrics } from "../../src/core/observability/metrics.ts"
import { Supervisor } from "../../src/core/supervisor.ts"
import { type Benchmark, withBenchDatabase } from "./harness.ts"

const FIBERS = 1000
const SECONDS = 5
const entry = (i: number): AuditEntryInput => ({
  actor: systemActor("bench"),
  action: "bench.write",
  resourceType: "bench",
  resourceId: String(i),
  outcome: "success",
  details: { i, note: "a typical small detail object" }
})

const percentile = (sorted: ReadonlyArray<number>, p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0

/** 1,000 fibers each writing in a loop until the time is up; returns entries/s and p99 latency. */
const drive = (write: (i: number) => Effect.Effect<void, unknown>) =>
  Effect.gen(function* () {
    const latencies: Array<number> = []
    const start = yield* Clock.currentTimeMillis
    const deadline = start + SECONDS * 1000
    yield* Effect.forEach(
      Array.from({ length: FIBERS }, (_, f) => f),
      (f) =>
        Effect.gen(function* () {
          let i = f
          while ((yield* Clock.currentTimeMillis) < deadline) {
            const t = performance.now()
            yield* write(i)
            latencies.push(performance.now() - t)
            i += FIBERS
          }
        }),
      { concurrency: "unbounded", discard: true }
    )
    const elapsed = ((yield* Clock.currentTimeMillis) - start) / 1000
    latencies.sort((a, b) => a - b)
    return { perSecond: latencies.length / elapsed, p99: percentile(latencies, 0.99), count: latencies.length }
  })

export const audit: Benchmark = {
  name: "audit",
  run: () =>
    withBenchDatabase(async (url) => {
      const pool = PgClient.layer({ url: Redacted.make(url), maxConnections: 10 })
      const layer = Audit.layer.pipe(
        Layer.provideMerge(Supervisor.layer),
        Layer.provideMerge(Metrics.layer),
        Layer.provideMerge(pool)
      )
      const [grouped, single] = await Effect.runPromise(
        Effect.gen(function* () {
          yield* migrateFrom(migrationsDirectory)
          const auditor = yield* Audit
          const sql = yield* SqlClient.SqlClient
          // Warm up both paths so neither pays for connection set-up in its figures.
          yield* Effect.forEach(
            Array.from({ length: 200 }, (_, i) => i),
            (i) => auditor.record(entry(i)),
            { concurrency: 200 }
          )
          const grouped = yield* drive((i) => auditor.record(entry(i)))
          const single = yield* drive((i) =>
            insertEntries([entry(i)]).pipe(Effect.provideService(SqlClient.SqlClient, sql))
          )
          return [grouped, single] as const
        }).pipe(Effect.provide(layer), Effect.scoped)
      )
      return [
        {
          benchmark: `audit group commit, ${FIBERS} fibers, ${SECONDS} s: durable entries/s`,
          figure: `${grouped.perSecond.toFixed(0)} (p99 ${grouped.p99.toFixed(1)} ms)`,
          baseline: `${single.perSecond.toFixed(0)} one INSERT each (p99 ${single.p99.toFixed(1)} ms)`,
          ratio: `${(grouped.perSecond / single.perSecond).toFixed(1)}×`,
          target: "≥ 30000/s, p99 ≤ 50 ms, ≥ 5×"
        }
      ]
    })
}
