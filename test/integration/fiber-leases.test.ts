/**
 * Leases of the singleton fibers on real PostgreSQL (ADR 0022): the lease service (take, renew,
 * refuse a second holder, take over after expiry by the database's clock, give up when its scope
 * closes, stop the work when the lease is lost or cannot be renewed in time), then two supervisors
 * as two replicas on one database running a `replicas: "one"` fiber: exactly one runs it, the
 * other takes over when the holder stops or dies, and the two never run it at once.
 */
import { PgClient } from "@effect/sql-pg"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Context, Duration, Effect, Exit, Fiber, Layer, Option, Redacted, References, Scope } from "effect"
import { TestClock } from "effect/testing"
import { beforeAll } from "vitest"
import { Leases, type LeaseTiming } from "../../src/core/leases/lease.ts"
import { Metrics } from "../../src/core/observability/metrics.ts"
import { type FiberSpec, Supervisor } from "../../src/core/supervisor.ts"
import { withSql } from "../support/admin-sql.ts"
import { createTestStores, type TestStores } from "../support/database.ts"
import { eventually, realSleep } from "../support/eventually.ts"
import { startTcpProxy } from "../support/tcp-proxy.ts"

let stores: TestStores
beforeAll(async () => {
  stores = await createTestStores()
})

const query = <Row extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
  Effect.promise(() => withSql(stores.databaseUrl, (sql) => sql.unsafe<Row>(text, params)))

interface LeaseRowSeen {
  readonly holder: string
  readonly acquired_at: Date
  readonly expires_at: Date
  /** Milliseconds until it expires, by the database's clock. */
  readonly left_ms: number
}
const rowOf = (name: string) =>
  Effect.map(
    query<LeaseRowSeen>(
      `SELECT holder, acquired_at, expires_at,
         (extract(epoch FROM expires_at - now()) * 1000)::float8 AS left_ms
       FROM fiber_leases WHERE name = $1`,
      [name]
    ),
    (rows) => rows[0]
  )

let counter = 0
const freshName = () => `test.lease-${++counter}-${Math.random().toString(36).slice(2, 8)}`

const sqlLayer = (url: string) => PgClient.layer({ url: Redacted.make(url), maxConnections: 2 })

/** A lease service of `holder` with its own connection pool (as another process would have). */
const leasesOf = (holder: string, timing: Partial<LeaseTiming> = {}, url = stores.databaseUrl) =>
  Effect.gen(function* () {
    const scope = yield* Scope.Scope
    const context = yield* Layer.buildWithScope(
      Leases.layer({ holder, timing }).pipe(Layer.provide(sqlLayer(url))),
      scope
    )
    return Context.get(context, Leases)
  })

describe("lease service", () => {
  it.effect("takes a free lease, renews it, refuses it to a second holder, and gives it up", () =>
    Effect.gen(function* () {
      const a = yield* leasesOf("replica-a")
      const b = yield* leasesOf("replica-b")
      const name = freshName()

      const grant = yield* a.tryAcquire(name)
      const taken = yield* rowOf(name)
      assert.strictEqual(taken?.holder, "replica-a")
      assert.strictEqual(grant.expiresAt.getTime(), taken?.expires_at.getTime())
      // 15 s from the database's now(), not the process clock (which the TestClock holds at 0).
      assert.isTrue(taken !== undefined && taken.left_ms > 14_000 && taken.left_ms <= 15_000, `${taken?.left_ms}`)

      const refused = yield* Effect.flip(b.tryAcquire(name))
      assert.strictEqual(refused._tag, "LeaseHeld")
      assert.strictEqual(refused._tag === "LeaseHeld" ? refused.holder : undefined, "replica-a")
      assert.match(refused.message, /held by replica-a/)
      assert.isFalse(yield* b.renew(name))

      yield* realSleep(20)
      assert.isTrue(yield* a.renew(name))
      const renewed = yield* rowOf(name)
      assert.isTrue(
        (renewed?.expires_at.getTime() ?? 0) > (taken?.expires_at.getTime() ?? 0),
        "renewal moved the expiry"
      )
      // Taking it again while holding it extends it and keeps when it was first taken.
      yield* a.tryAcquire(name)
      assert.strictEqual((yield* rowOf(name))?.acquired_at.getTime(), taken?.acquired_at.getTime())
      assert.strictEqual(Option.getOrUndefined(yield* b.current(name))?.holder, "replica-a")

      yield* b.release(name)
      assert.strictEqual((yield* rowOf(name))?.holder, "replica-a", "a holder releases only its own lease")
      yield* a.release(name)
      assert.isUndefined(yield* rowOf(name))
      assert.isTrue(Option.isNone(yield* a.current(name)))
      yield* b.tryAcquire(name)
      assert.strictEqual((yield* rowOf(name))?.holder, "replica-b")
    })
  )

  it.live("another holder takes a lease over once it has expired by the database's clock", () =>
    Effect.gen(function* () {
      const a = yield* leasesOf("replica-a", { ttl: Duration.millis(400), renewEvery: Duration.millis(200) })
      const b = yield* leasesOf("replica-b")
      const name = freshName()
      yield* a.tryAcquire(name)
      assert.strictEqual((yield* Effect.flip(b.tryAcquire(name)))._tag, "LeaseHeld")
      yield* eventually(
        "the lease to expire",
        Effect.map(rowOf(name), (row) => row !== undefined && row.left_ms <= 0)
      )
      yield* b.tryAcquire(name)
      const row = yield* rowOf(name)
      assert.strictEqual(row?.holder, "replica-b")
      assert.isFalse(yield* a.renew(name), "the old holder finds it lost")
      assert.strictEqual((yield* Effect.flip(a.tryAcquire(name)))._tag, "LeaseHeld")
    })
  )

  it.effect("a replica that stands by takes the lease when the holder gives it up (test clock)", () =>
    Effect.gen(function* () {
      const a = yield* leasesOf("replica-a")
      const b = yield* leasesOf("replica-b")
      const name = freshName()
      yield* a.tryAcquire(name)
      const tries: Array<string> = []
      const waiting = yield* b
        .acquire(name, (refusal) => Effect.sync(() => void tries.push(refusal._tag)))
        .pipe(Effect.forkChild)
      yield* eventually(
        "the first refusal",
        Effect.sync(() => tries.length === 1)
      )
      yield* TestClock.adjust("5 seconds")
      yield* eventually(
        "the second refusal",
        Effect.sync(() => tries.length === 2)
      )
      yield* a.release(name)
      yield* TestClock.adjust("5 seconds")
      const grant = yield* Fiber.join(waiting)
      assert.strictEqual(grant.lease, name)
      assert.deepStrictEqual(tries, ["LeaseHeld", "LeaseHeld"])
      assert.strictEqual((yield* rowOf(name))?.holder, "replica-b")
    })
  )

  it.effect("hold renews every 5 s of the test clock and gives the lease up when its scope closes", () =>
    Effect.gen(function* () {
      const a = yield* leasesOf("replica-a")
      const b = yield* leasesOf("replica-b")
      const name = freshName()
      const grant = yield* a.tryAcquire(name)
      let interrupted = false
      const scope = yield* Scope.make()
      yield* a
        .hold(
          grant,
          Effect.never.pipe(
            Effect.onInterrupt(() =>
              Effect.sync(() => {
                interrupted = true
              })
            )
          )
        )
        .pipe(Effect.forkIn(scope))
      for (let i = 1; i <= 4; i++) {
        const before = (yield* rowOf(name))?.expires_at.getTime() ?? 0
        yield* TestClock.adjust("5 seconds")
        yield* eventually(
          `renewal ${i}`,
          Effect.map(rowOf(name), (row) => (row?.expires_at.getTime() ?? 0) > before)
        )
      }
      // 20 s of test time: the renewals kept it, so the watchdog never stopped the work.
      assert.isFalse(interrupted)
      assert.strictEqual((yield* rowOf(name))?.holder, "replica-a")
      yield* Scope.close(scope, Exit.void)
      assert.isTrue(interrupted)
      assert.isUndefined(yield* rowOf(name), "released when the scope closed")
      yield* b.tryAcquire(name)
    })
  )

  it.effect("hold interrupts the work when a renewal finds another holder", () =>
    Effect.gen(function* () {
      const a = yield* leasesOf("replica-a")
      const name = freshName()
      const grant = yield* a.tryAcquire(name)
      let interrupted = false
      const holding = yield* a
        .hold(
          grant,
          Effect.never.pipe(
            Effect.onInterrupt(() =>
              Effect.sync(() => {
                interrupted = true
              })
            )
          )
        )
        .pipe(Effect.forkChild)
      yield* query("UPDATE fiber_leases SET holder = 'intruder' WHERE name = $1", [name])
      yield* TestClock.adjust("5 seconds")
      const error = yield* Effect.flip(Fiber.join(holding))
      assert.strictEqual(error._tag, "LeaseLost")
      assert.isTrue(interrupted)
      assert.strictEqual((yield* rowOf(name))?.holder, "intruder", "the release left the other holder's row alone")
    })
  )

  it.live("hold stops the work before the lease can expire when the database is out of reach", () =>
    Effect.gen(function* () {
      const proxy = yield* Effect.acquireRelease(
        Effect.promise(() => startTcpProxy("127.0.0.1", Number(new URL(stores.databaseUrl).port || "5432"))),
        (p) => Effect.promise(() => p.close())
      )
      const viaProxy = new URL(stores.databaseUrl)
      viaProxy.port = String(proxy.port)
      const timing = { ttl: Duration.millis(1500), renewEvery: Duration.millis(300) }
      const a = yield* leasesOf("replica-a", timing, viaProxy.toString())
      const name = freshName()
      const grant = yield* a.tryAcquire(name)
      let stoppedAt: number | undefined
      const holding = yield* a
        .hold(
          grant,
          Effect.never.pipe(
            Effect.onInterrupt(() =>
              Effect.sync(() => {
                stoppedAt = Date.now()
              })
            )
          )
        )
        .pipe(Effect.forkChild)
      yield* realSleep(700) // a renewal or two go through
      yield* Effect.promise(() => proxy.cut())
      const error = yield* Effect.flip(Fiber.join(holding))
      assert.strictEqual(error._tag, "LeaseLost")
      const row = yield* rowOf(name)
      assert.strictEqual(row?.holder, "replica-a", "it could not release: the row stays until it expires")
      assert.isDefined(stoppedAt)
      // Both clocks are this machine's: the work stopped before the database would hand the lease on.
      assert.isTrue((stoppedAt ?? Infinity) < (row?.expires_at.getTime() ?? 0), "stopped before expiry")
    })
  )
})

// ---------------------------------------------------------------------------------------------
// Two replicas: two supervisors, each with its own pool, holder id and metrics, on one database.

const FAST: Partial<LeaseTiming> = {
  ttl: Duration.millis(1500),
  renewEvery: Duration.millis(300),
  retryEvery: Duration.millis(150)
}

interface Run {
  readonly holder: string
  readonly start: number
  stop: number | undefined
}

/** A "one" fiber that records when it starts and stops in each replica, and notes any overlap. */
const recordingFiber = (name: string, holder: string, runs: Array<Run>, overlaps: Array<string>) =>
  ({
    name,
    replicas: "one",
    // Restarts (after a lost lease) come quickly, so the test sees the holder stand by again.
    backoff: { initial: "100 millis", max: "100 millis" },
    run: (heartbeat) =>
      Effect.gen(function* () {
        const open = runs.filter((r) => r.stop === undefined)
        if (open.length > 0) overlaps.push(`${holder} started while ${open.map((r) => r.holder).join(", ")} ran`)
        const run: Run = { holder, start: performance.now(), stop: undefined }
        runs.push(run)
        yield* heartbeat
        yield* Effect.never.pipe(
          Effect.ensuring(
            Effect.sync(() => {
              run.stop = performance.now()
            })
          )
        )
      })
  }) satisfies FiberSpec<never, "one">

const replica = (holder: string, url: string) =>
  Effect.gen(function* () {
    const scope = yield* Scope.make()
    const context = yield* Layer.buildWithScope(
      Supervisor.layerWith({ holder, leaseTiming: FAST }).pipe(
        Layer.provideMerge(Metrics.layer),
        Layer.provideMerge(sqlLayer(url))
      ),
      scope
    )
    const supervisor = Context.get(context, Supervisor)
    const leaseHeld = (fiber: string) =>
      Effect.promise(async () => {
        const metric = Context.get(context, Metrics).registry.getSingleMetric("breakwater_fiber_lease_held")
        return (await metric?.get())?.values.find((v) => v.labels.fiber === fiber)?.value
      })
    const status = (fiber: string) => Effect.map(supervisor.statuses, (all) => all.find((s) => s.name === fiber))
    return {
      holder,
      scope,
      start: (spec: FiberSpec<never, "one">) =>
        supervisor.start(spec).pipe(
          Effect.provide(context),
          // The fibers inherit it: the lease's warnings are what these tests provoke.
          Effect.provideService(References.MinimumLogLevel, "Error"),
          Scope.provide(scope)
        ),
      status,
      leaseHeld,
      stop: Scope.close(scope, Exit.void)
    }
  })

const noOverlap = (runs: ReadonlyArray<Run>) => {
  const sorted = [...runs].sort((x, y) => x.start - y.start)
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1]
    const next = sorted[i]
    if (previous?.stop === undefined || next === undefined || previous.stop > next.start) return false
  }
  return true
}

describe('a replicas: "one" fiber on two replicas', () => {
  it.live('refuses to start an essential "one" fiber: a CLI command cannot wait for a lease', () =>
    Effect.gen(function* () {
      const a = yield* replica("replica-a", stores.databaseUrl)
      const exit = yield* Effect.exit(a.start({ ...recordingFiber(freshName(), a.holder, [], []), essential: true }))
      assert.isTrue(Exit.isFailure(exit))
      assert.include(Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "", 'is essential and "one"')
      yield* a.stop
    })
  )

  it.live("runs in exactly one; the other takes over when the holder stops, and never both at once", () =>
    Effect.gen(function* () {
      const name = freshName()
      const runs: Array<Run> = []
      const overlaps: Array<string> = []
      const a = yield* replica("replica-a", stores.databaseUrl)
      const b = yield* replica("replica-b", stores.databaseUrl)
      yield* a.start(recordingFiber(name, a.holder, runs, overlaps))
      yield* b.start(recordingFiber(name, b.holder, runs, overlaps))

      // The first try is made before start returns: a runs it at once, b stands by.
      assert.strictEqual((yield* a.status(name))?.state, "running")
      assert.strictEqual((yield* a.status(name))?.leaseHolder, "replica-a")
      assert.strictEqual((yield* b.status(name))?.state, "standby")
      assert.strictEqual((yield* b.status(name))?.leaseHolder, "replica-a")
      assert.strictEqual(yield* a.leaseHeld(name), 1)
      assert.strictEqual(yield* b.leaseHeld(name), 0)
      // Several TTLs later the renewals have kept it with a; b has never started it.
      yield* realSleep(4000)
      assert.deepStrictEqual(
        runs.map((r) => r.holder),
        ["replica-a"]
      )
      assert.strictEqual((yield* b.status(name))?.state, "standby")
      assert.strictEqual((yield* a.status(name))?.restarts, 0)

      const stoppedAt = performance.now()
      yield* a.stop
      yield* eventually(
        "b to take over",
        Effect.map(b.status(name), (s) => s?.state === "running")
      )
      const takeover = (runs[1]?.start ?? Infinity) - stoppedAt
      // a released its lease on the way out: b takes it at its next try, well within the TTL.
      assert.isBelow(takeover, 1500)
      assert.deepStrictEqual(
        runs.map((r) => r.holder),
        ["replica-a", "replica-b"]
      )
      assert.strictEqual(yield* b.leaseHeld(name), 1)
      assert.isTrue(noOverlap(runs), JSON.stringify(runs))
      assert.deepStrictEqual(overlaps, [])
      yield* b.stop
      assert.isUndefined(yield* rowOf(name))
    })
  )

  it.live(
    "when the holder dies (its database connection cut), the other takes over after expiry, never overlapping",
    () =>
      Effect.gen(function* () {
        const proxy = yield* Effect.acquireRelease(
          Effect.promise(() => startTcpProxy("127.0.0.1", Number(new URL(stores.databaseUrl).port || "5432"))),
          (p) => Effect.promise(() => p.close())
        )
        const viaProxy = new URL(stores.databaseUrl)
        viaProxy.port = String(proxy.port)
        const name = freshName()
        const runs: Array<Run> = []
        const overlaps: Array<string> = []
        const a = yield* replica("replica-a", viaProxy.toString())
        const b = yield* replica("replica-b", stores.databaseUrl)
        yield* Effect.addFinalizer(() => Effect.andThen(a.stop, b.stop))
        yield* a.start(recordingFiber(name, a.holder, runs, overlaps))
        yield* b.start(recordingFiber(name, b.holder, runs, overlaps))
        assert.strictEqual((yield* a.status(name))?.state, "running")
        yield* realSleep(600)

        yield* Effect.promise(() => proxy.cut())
        yield* eventually(
          "b to take over",
          Effect.map(b.status(name), (s) => s?.state === "running")
        )
        const first = runs[0]
        const second = runs[1]
        assert.strictEqual(first?.holder, "replica-a")
        assert.strictEqual(second?.holder, "replica-b")
        assert.isDefined(first?.stop, "a stopped its run when it could not renew")
        assert.isTrue(noOverlap(runs), JSON.stringify(runs))
        assert.deepStrictEqual(overlaps, [])

        // a is back: its lease is b's now, so it stands by.
        yield* Effect.promise(() => proxy.restore())
        yield* eventually(
          "a to stand by",
          Effect.map(a.status(name), (s) => s?.state === "standby" && s.leaseHolder === "replica-b")
        )
        assert.isAbove((yield* a.status(name))?.restarts ?? 0, 0)
        assert.match((yield* a.status(name))?.lastFailure?.message ?? "", /lease/)
        assert.strictEqual(yield* a.leaseHeld(name), 0)
        assert.strictEqual(runs.length, 2)
        assert.deepStrictEqual(overlaps, [])
      })
  )
})
