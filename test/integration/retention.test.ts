/**
 * The retention runner on real PostgreSQL: registration checks against the database (audit tables
 * refused); a dry run counts exactly what the following real run deletes, in batches that commit one
 * by one (TestClock); a job whose period is 0; a failing job does not stop the others; expired
 * sessions; and the run lock: two replicas (or two runs in one process) never run at once, and the
 * daily slot runs once.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Fiber, Layer, Schema } from "effect"
import { TestClock } from "effect/testing"
import { beforeAll } from "vitest"
import { servicesLayer } from "../../src/app.ts"
import type { Actor } from "../../src/core/audit/entry.ts"
import { AppConfig } from "../../src/core/config.ts"
import { coreRetentionJobs, sessionRetentionDays } from "../../src/core/retention/core-jobs.ts"
import type { RetentionJob } from "../../src/core/retention/job.ts"
import { RETENTION_LOCK_KEY } from "../../src/core/retention/lock.ts"
import { Retention, type RetentionOptions } from "../../src/core/retention/retention.ts"
import { defineSetting, type SettingSpec } from "../../src/core/settings/spec.ts"
import { withSql } from "../support/admin-sql.ts"
import { createTestStores, type TestStores } from "../support/database.ts"
import { eventually } from "../support/eventually.ts"

let stores: TestStores
beforeAll(async () => {
  stores = await createTestStores()
  for (const statement of [
    "CREATE TABLE probe_batches (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL)",
    "CREATE TABLE probe_zero (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, at timestamptz NOT NULL)",
    ...["probe_other", "probe_race", "probe_slot", "probe_local"].map(
      (t) => `CREATE TABLE ${t} (at timestamptz NOT NULL)`
    ),
    "CREATE TABLE probe_date (at date NOT NULL)",
    "CREATE VIEW probe_view AS SELECT at FROM probe_batches"
  ])
    await query(statement)
})

const query = <Row extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
  withSql(stores.databaseUrl, (sql) => sql.unsafe<Row>(text, params))
const sqlNow = <Row extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
  Effect.promise(() => query<Row>(text, params))

/**
 * A runner with the given options over the application's core (the same composition as the server
 * and the CLI, essential fibers only: the audit writer); each call builds a separate "replica".
 */
const retentionLayer = (options: RetentionOptions = {}) =>
  Retention.layerWith(options).pipe(
    Layer.provide(
      servicesLayer([], AppConfig.layerFrom({ LOG_LEVEL: "fatal", DATABASE_URL: stores.databaseUrl }), {
        fibers: "essential",
        serving: false
      })
    )
  )

const days = (key: string, value: number): SettingSpec<number> =>
  defineSetting({ key, schema: Schema.Number, default: value, description: "test", permission: "MANAGE_SYSTEM_CONFIG" })

const probeJob = (name: string, table: string, period = days(`test.${table}_days`, 7)): RetentionJob => ({
  name,
  description: `rows of ${table}`,
  table,
  ageColumn: "at",
  period
})

const actor = (name: string): Actor => ({ type: "system", id: `system:${name}`, name })

const T0 = Date.parse("2026-06-15T12:00:00.000Z")
const DAY = 86_400_000
const iso = (ms: number) => new Date(ms).toISOString()

/** Inserts one row per time. */
const insertAt = (table: string, times: ReadonlyArray<number>) =>
  sqlNow(`INSERT INTO ${table} (at) SELECT unnest($1::timestamptz[])`, [times.map(iso)])

const remaining = (table: string, before?: number) =>
  Effect.map(
    sqlNow<{ n: string }>(
      `SELECT count(*) AS n FROM ${table}${before === undefined ? "" : " WHERE at < $1::timestamptz"}`,
      before === undefined ? [] : [iso(before)]
    ),
    (rows) => Number(rows[0]?.n)
  )

const auditOf = (actorId: string) =>
  sqlNow<{
    action: string
    outcome: string
    details: { jobs: ReadonlyArray<Record<string, unknown>>; scheduled?: string }
  }>("SELECT action, outcome, details FROM audit_log WHERE actor_id = $1 ORDER BY id", [actorId])

/** Under the test clock set to T0 before the runner starts. */
const atT0 =
  (options: RetentionOptions = {}) =>
  <A, E>(body: Effect.Effect<A, E, Retention>) =>
    Effect.andThen(TestClock.setTime(T0), body.pipe(Effect.provide(retentionLayer(options))))

const lockHeld = Effect.map(
  sqlNow<{ n: string }>(
    `SELECT count(*) AS n FROM pg_locks
     WHERE locktype = 'advisory' AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = $1`,
    [RETENTION_LOCK_KEY]
  ),
  (rows) => Number(rows[0]?.n) > 0
)

describe("retention registration", () => {
  it.effect("accepts core's jobs and refuses audit tables, missing tables and columns, wrong types, duplicates", () =>
    Effect.gen(function* () {
      const retention = yield* Retention
      yield* retention.register("core", coreRetentionJobs)
      const refused = (module: string, jobs: ReadonlyArray<RetentionJob>) =>
        Effect.map(Effect.flip(retention.register(module, jobs)), (e) => e.message)

      for (const [table, column] of [
        ["audit_log", "occurred_at"],
        ["audit_seal", "sealed_at"],
        ["audit_pending", "entry_id"],
        ["audit_entry", "at"]
      ] as const)
        assert.match(
          yield* refused("evil", [{ ...probeJob("evil.audit", table), ageColumn: column }]),
          /holds audit evidence, which retention never deletes/
        )
      assert.match(yield* refused("test", [probeJob("test.none", "no_such_table")]), /there is no table no_such_table/)
      assert.match(
        yield* refused("test", [{ ...probeJob("test.nocol", "probe_batches"), ageColumn: "created_at" }]),
        /table probe_batches has no column created_at/
      )
      assert.match(
        yield* refused("test", [probeJob("test.date", "probe_date")]),
        /is date, not timestamp with time zone/
      )
      assert.match(yield* refused("test", [probeJob("test.view", "probe_view")]), /probe_view is not a plain table/)
      assert.strictEqual(
        yield* refused("identity", [probeJob("identity.expired_sessions", "probe_other")]),
        "retention job identity.expired_sessions is declared by both core and identity"
      )
      // A refused declaration registers none of its jobs.
      assert.match(
        yield* refused("test", [probeJob("test.fine", "probe_other"), probeJob("test.bad", "no_such_table")]),
        /no_such_table/
      )
      assert.deepStrictEqual(
        (yield* retention.jobs).map((j) => `${j.module}:${j.name}`),
        ["core:identity.expired_sessions"]
      )
    }).pipe(Effect.provide(retentionLayer()))
  )
})

describe("retention runs", () => {
  it.effect("a dry run counts exactly what the following real run deletes, 100 rows a batch, each committed", () =>
    Effect.gen(function* () {
      const cutoff = T0 - 7 * DAY
      // 1,234 rows well past the cutoff, one a millisecond before it, and some not due.
      const due = [...Array.from({ length: 1234 }, (_, i) => cutoff - (i + 1) * 60_000), cutoff - 1]
      const kept = [cutoff, cutoff + 1, T0 - DAY, T0, T0 + DAY]
      yield* insertAt("probe_batches", [...due, ...kept])
      const retention = yield* Retention
      yield* retention.register("test", [probeJob("test.batches", "probe_batches")])
      const who = actor("batch-test")

      const dry = yield* retention.run({ dryRun: true, actor: who })
      assert.deepStrictEqual(dry.jobs, [
        { name: "test.batches", table: "probe_batches", periodDays: 7, cutoff: iso(cutoff), count: 1235 }
      ])
      assert.isTrue(dry.dryRun && dry.ok)
      assert.strictEqual(dry.startedAt, iso(T0))
      assert.deepStrictEqual(yield* auditOf(who.id), [], "a dry run is not audited")
      assert.strictEqual(yield* remaining("probe_batches"), 1240, "a dry run deletes nothing")

      // The real run pauses a second (test clock) after each full batch: every batch is seen
      // committed from another connection before the clock lets the next one go.
      const fiber = yield* Effect.forkChild(retention.run({ dryRun: false, actor: who }))
      for (let batch = 1; batch <= 12; batch++) {
        yield* eventually(
          `batch ${batch}`,
          Effect.map(remaining("probe_batches"), (n) => n === 1240 - 100 * batch)
        )
        yield* TestClock.adjust("1 second")
      }
      const real = yield* Fiber.join(fiber)
      assert.deepStrictEqual(real.jobs, dry.jobs, "the real run deleted what the dry run counted, at the same cutoff")
      assert.isFalse(real.dryRun)
      assert.strictEqual(yield* remaining("probe_batches"), kept.length)
      assert.strictEqual(yield* remaining("probe_batches", cutoff), 0)
      // The run took 12 s of test time: the rows at the cutoff and 1 ms after it became due while it
      // ran, and it left them (its cutoff was fixed at its start); the next run's cutoff takes them.
      const next = yield* retention.run({ dryRun: true, actor: who })
      assert.deepStrictEqual(
        next.jobs.map((j) => [j.cutoff, j.count]),
        [[iso(cutoff + 12_000), 2]]
      )

      const entries = yield* auditOf(who.id)
      assert.strictEqual(entries.length, 1, "audited once per real run")
      assert.deepStrictEqual(entries[0], {
        action: "retention.run",
        outcome: "success",
        details: { jobs: [{ name: "test.batches", table: "probe_batches", cutoff: iso(cutoff), count: 1235 }] }
      })
    }).pipe(atT0({ batchSize: 100, pause: "1 second" }))
  )

  it.effect("a job whose period setting is 0 deletes what is past its time and nothing later", () =>
    Effect.gen(function* () {
      yield* insertAt("probe_zero", [T0 - 30 * DAY, T0 - 1, T0, T0 + 1, T0 + 3_600_000])
      const retention = yield* Retention
      // The setting's default is 7 days; the administrator set it to 0.
      yield* retention.register("test", [probeJob("test.zero", "probe_zero", days("test.zero_days", 7))])
      const dry = yield* retention.run({ dryRun: true, actor: actor("zero") })
      assert.deepStrictEqual(dry.jobs, [
        { name: "test.zero", table: "probe_zero", periodDays: 0, cutoff: iso(T0), count: 2 }
      ])
      const real = yield* retention.run({ dryRun: false, actor: actor("zero") })
      assert.strictEqual(real.jobs[0]?.count, 2)
      assert.deepStrictEqual(
        (yield* sqlNow<{ at: Date }>("SELECT at FROM probe_zero ORDER BY at")).map((r) => r.at.getTime()),
        [T0, T0 + 1, T0 + 3_600_000]
      )
    }).pipe(atT0({ periodOf: (spec) => Effect.succeed(spec.key === "test.zero_days" ? 0 : spec.default) }))
  )

  it.effect("a job that fails is reported (and audited as a failure); the others still run", () =>
    Effect.gen(function* () {
      yield* insertAt("probe_other", [T0 - 8 * DAY, T0 - 9 * DAY, T0])
      const retention = yield* Retention
      yield* retention.register("test", [
        probeJob("test.unreadable", "probe_zero", days("test.unreadable_days", 1)),
        probeJob("test.negative", "probe_zero", days("test.negative_days", 1)),
        probeJob("test.other", "probe_other")
      ])
      const who = actor("failing-test")
      const report = yield* retention.run({ dryRun: false, actor: who })
      assert.isFalse(report.ok)
      assert.deepStrictEqual(
        report.jobs.map((j) => [j.name, j.count, j.error]),
        [
          ["test.unreadable", 0, "its period could not be read: the settings store is down"],
          ["test.negative", 0, "setting test.negative_days must be a number of days ≥ 0, not -3"],
          ["test.other", 2, undefined]
        ]
      )
      const [entry] = yield* auditOf(who.id)
      assert.strictEqual(entry?.outcome, "failure")
      assert.deepStrictEqual(
        entry?.details.jobs.map((j) => j.count),
        [0, 0, 2]
      )
    }).pipe(
      atT0({
        periodOf: (spec) =>
          spec.key === "test.unreadable_days"
            ? Effect.fail(new Error("the settings store is down"))
            : Effect.succeed(spec.key === "test.negative_days" ? -3 : spec.default)
      })
    )
  )

  it.effect("expired sessions: gone once expired plus the period; live ones stay", () =>
    Effect.gen(function* () {
      const [user] = yield* sqlNow<{ id: string }>(
        "INSERT INTO users (email, display_name, role, password_hash) VALUES ('ret@test.local', 'ret', 'viewer', 'x') RETURNING id"
      )
      for (const [hash, expires] of [
        ["expired-long-ago", T0 - 3 * DAY],
        ["expired-yesterday", T0 - DAY / 2],
        ["live", T0 + 3_600_000]
      ] as const)
        yield* sqlNow("INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, 'x', $3)", [
          hash,
          user?.id,
          iso(expires)
        ])
      const retention = yield* Retention
      yield* retention.register("core", coreRetentionJobs)
      // One day after expiry (the setting changed from its default of 0).
      const report = yield* retention.run({ dryRun: false, jobs: ["identity.expired_sessions"], actor: actor("s") })
      assert.deepStrictEqual(report.jobs, [
        { name: "identity.expired_sessions", table: "sessions", periodDays: 1, cutoff: iso(T0 - DAY), count: 1 }
      ])
      assert.deepStrictEqual(
        (yield* sqlNow<{ id_hash: string }>("SELECT id_hash FROM sessions ORDER BY id_hash")).map((r) => r.id_hash),
        ["expired-yesterday", "live"]
      )
    }).pipe(atT0({ periodOf: (spec) => Effect.succeed(spec.key === sessionRetentionDays.key ? 1 : spec.default) }))
  )

  it.effect("unknown job names are refused before anything runs", () =>
    Effect.gen(function* () {
      const retention = yield* Retention
      yield* retention.register("core", coreRetentionJobs)
      const error = yield* Effect.flip(
        retention.run({ dryRun: false, jobs: ["identity.expired_sessions", "test.nope"], actor: actor("u") })
      )
      assert.strictEqual(error._tag, "UnknownRetentionJobs")
      assert.strictEqual(error.message, "no retention job named test.nope (known: identity.expired_sessions)")
      assert.deepStrictEqual(yield* auditOf("system:u"), [])
    }).pipe(Effect.provide(retentionLayer()))
  )
})

describe("retention run lock", () => {
  /** A "replica": the runner built on its own (its own pool and semaphore), with `jobs` registered. */
  const replica = (jobs: ReadonlyArray<RetentionJob>) =>
    Effect.gen(function* () {
      const context = yield* Layer.build(retentionLayer({ batchSize: 100, pause: "20 millis" }))
      const retention = Context.get(context, Retention)
      yield* retention.register("test", jobs)
      return retention
    })

  it.live("two replicas' concurrent real runs: one runs, the other is refused; nothing is counted twice", () =>
    Effect.gen(function* () {
      yield* insertAt(
        "probe_race",
        Array.from({ length: 3000 }, (_, i) => Date.now() - 30 * DAY - i)
      )
      const job = probeJob("test.race", "probe_race")
      const a = yield* replica([job])
      const b = yield* replica([job])
      const first = yield* Effect.forkChild(a.run({ dryRun: false, actor: actor("race") }))
      yield* eventually("replica a to hold the lock", lockHeld)
      const second = yield* Effect.flip(b.run({ dryRun: false, actor: actor("race") }))
      assert.strictEqual(second._tag, "RetentionBusy")
      // A dry run takes no lock: it counts what is still due while the other deletes.
      const dry = yield* b.run({ dryRun: true, actor: actor("race") })
      assert.isAtMost(dry.jobs[0]?.count ?? -1, 3000)
      const report = yield* Fiber.join(first)
      assert.strictEqual(report.jobs[0]?.count, 3000)
      assert.strictEqual(yield* remaining("probe_race"), 0)
      assert.isFalse(yield* lockHeld, "the lock is released after the run")
      assert.strictEqual((yield* auditOf("system:race")).length, 1)
      // Once the first has finished, the other replica may run (and finds nothing due).
      assert.strictEqual((yield* b.run({ dryRun: false, actor: actor("race") })).jobs[0]?.count, 0)
    })
  )

  it.live("two runs in one process: the second is refused while the first runs", () =>
    Effect.gen(function* () {
      yield* insertAt(
        "probe_local",
        Array.from({ length: 2000 }, (_, i) => Date.now() - 30 * DAY - i)
      )
      const a = yield* replica([probeJob("test.local", "probe_local")])
      const first = yield* Effect.forkChild(a.run({ dryRun: false, actor: actor("local") }))
      yield* eventually("the first run to hold the lock", lockHeld)
      assert.strictEqual((yield* Effect.flip(a.run({ dryRun: false, actor: actor("local") })))._tag, "RetentionBusy")
      assert.strictEqual((yield* Fiber.join(first)).jobs[0]?.count, 2000)
    })
  )

  it.live("the daily slot runs once across replicas: the other finds the lock held, then the slot done", () =>
    Effect.gen(function* () {
      yield* insertAt(
        "probe_slot",
        Array.from({ length: 2000 }, (_, i) => Date.now() - 30 * DAY - i)
      )
      const job = probeJob("test.slot", "probe_slot")
      const a = yield* replica([job])
      const b = yield* replica([job])
      const slot = new Date(Math.floor(Date.now() / DAY) * DAY + 3 * 3_600_000)
      const first = yield* Effect.forkChild(a.runScheduled(slot))
      yield* eventually("replica a to hold the lock", lockHeld)
      assert.deepStrictEqual(yield* b.runScheduled(slot), { kind: "busy" })
      const ran = yield* Fiber.join(first)
      assert.strictEqual(ran.kind, "ran")
      assert.strictEqual(ran.kind === "ran" ? ran.report.jobs[0]?.count : -1, 2000)
      assert.deepStrictEqual(yield* b.runScheduled(slot), { kind: "done" })
      assert.deepStrictEqual(yield* a.runScheduled(slot), { kind: "done" })
      const [row] = yield* sqlNow<{ last_slot: Date }>("SELECT last_slot FROM retention_schedule")
      assert.strictEqual(row?.last_slot.toISOString(), slot.toISOString())
      const entries = yield* auditOf("system:retention")
      assert.strictEqual(entries.length, 1)
      assert.strictEqual(entries[0]?.details.scheduled, slot.toISOString())
      // The next day's slot is a new run.
      assert.strictEqual((yield* b.runScheduled(new Date(slot.getTime() + DAY))).kind, "ran")
    })
  )
})
