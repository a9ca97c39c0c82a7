/**
 * The circuit breaker service on real PostgreSQL and Redis: transitions, the concurrent-reset race,
 * quiet period and rate limit (TestClock), four-eyes approval, scopes, publication and drift
 * repair, restart. Outages are in breaker-outage.test.ts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Exit, Fiber, Layer, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Redis } from "ioredis"
import { afterAll, beforeAll } from "vitest"
import { CircuitBreaker } from "../../src/core/contracts/circuit-breaker/service.ts"
import type { Metrics } from "../../src/core/observability/metrics.ts"
import { withSql } from "../support/admin-sql.ts"
import { alice, bob, breakerLayer, REASON, scopeGauge } from "../support/breaker.ts"
import { createTestStores, type TestStores } from "../support/database.ts"

let stores: TestStores
let redis: Redis
beforeAll(async () => {
  stores = await createTestStores()
  redis = new Redis(stores.redisUrl)
})
afterAll(() => redis.quit())

const env = () => ({
  DATABASE_URL: stores.databaseUrl,
  REDIS_URL: stores.redisUrl,
  REDIS_KEY_PREFIX: stores.redisKeyPrefix
})
const layer = () => breakerLayer(env())
/** TestClock tests: the clock is set before the service starts, and no background verifier runs. */
const atT0 = <A, E>(body: Effect.Effect<A, E, CircuitBreaker | Metrics>) =>
  Effect.andThen(TestClock.setTime(T0), body.pipe(Effect.provide(breakerLayer(env(), false))))
const query = <Row extends object>(text: string, params: ReadonlyArray<unknown> = []) =>
  Effect.promise(() => withSql(stores.databaseUrl, (sql) => sql.unsafe<Row>(text, params)))
const published = (scope: string) =>
  Effect.promise(() =>
    redis.get(`${stores.redisKeyPrefix}circuit_breaker:state${scope === "global" ? "" : `:${scope}`}`)
  )

const T0 = Date.parse("2026-11-22T10:00:00.000Z")
let counter = 0
/** A fresh scope per test: the tests share one database. */
const freshScope = Effect.gen(function* () {
  const breaker = yield* CircuitBreaker
  const scope = `venue-${++counter}-${Math.random().toString(36).slice(2, 8)}`
  yield* breaker.createScope(scope, alice)
  return scope
})
const trip = (scope: string, reason = REASON) =>
  Effect.flatMap(CircuitBreaker, (b) => b.trip({ scope, reason, source: "manual", actor: alice }))

describe("circuit breaker", () => {
  it.effect("starts with global OPEN, published exactly as stored", () =>
    Effect.gen(function* () {
      const breaker = yield* CircuitBreaker
      const view = yield* breaker.read("global")
      assert.strictEqual(view.state, "OPEN")
      assert.strictEqual(view.trading_allowed, true)
      const json = yield* published("global")
      assert.isNotNull(json)
      const { as_of: _a, warning: _w, effective_state: _e, trading_allowed: _t, halted_by: _h, ...record } = view
      assert.deepStrictEqual(JSON.parse(json ?? "null"), record)
    }).pipe(atT0)
  )

  it.effect("trips: TRIPPED, history, audit entry in the same transaction, published record = stored record", () =>
    Effect.gen(function* () {
      const breaker = yield* CircuitBreaker
      const scope = yield* freshScope
      const outcome = yield* breaker.trip({
        scope,
        reason: REASON,
        details: { latency_ms: 900 },
        source: "manual",
        actor: alice
      })
      assert.isTrue(outcome.changed && outcome.persisted && outcome.published)
      assert.strictEqual(outcome.record.state, "TRIPPED")
      assert.strictEqual(outcome.record.tripped_at, new Date(T0).toISOString())
      assert.strictEqual(outcome.record.trip_count_today, 1)
      assert.deepStrictEqual(outcome.record.tripped_by, alice)

      const history = yield* breaker.history(scope, { limit: 10 })
      assert.deepStrictEqual(
        history.map((t) => [t.kind, t.from_state, t.to_state, t.version]),
        [["trip", "OPEN", "TRIPPED", 2]]
      )
      const audit = yield* query<{ action: string; reason: string; actor_id: string }>(
        "SELECT action, reason, actor_id FROM audit_log WHERE resource_type = 'breaker' AND resource_id = $1 ORDER BY id",
        [scope]
      )
      assert.deepStrictEqual(
        audit.map((a) => a.action),
        ["breaker.scope_create", "breaker.trip"]
      )
      assert.strictEqual(audit[1]?.reason, REASON)

      const [row] = yield* query<{ version: string; state: string }>(
        "SELECT version, state FROM breaker_scope WHERE scope = $1",
        [scope]
      )
      assert.deepStrictEqual([Number(row?.version), row?.state], [2, "TRIPPED"])
      assert.deepStrictEqual(JSON.parse((yield* published(scope)) ?? "null"), outcome.record)
    }).pipe(atT0)
  )

  it.effect("a repeated trip records the reason but keeps tripped_at and the version", () =>
    Effect.gen(function* () {
      const breaker = yield* CircuitBreaker
      const scope = yield* freshScope
      const first = yield* trip(scope)
      yield* TestClock.adjust("30 seconds")
      const again = yield* trip(scope, "second report: venue still rejecting orders")
      assert.isFalse(again.changed)
      assert.strictEqual(again.record.tripped_at, first.record.tripped_at)
      assert.strictEqual(again.record.version, first.record.version)
      const history = yield* breaker.history(scope, { limit: 10 })
      assert.deepStrictEqual(
        history.map((t) => [t.kind, t.reason]),
        [
          ["trip_repeated", "second report: venue still rejecting orders"],
          ["trip", REASON]
        ]
      )
    }).pipe(atT0)
  )

  it.live("of 100 concurrent resets exactly one wins; the others get a conflict", () =>
    Effect.gen(function* () {
      const breaker = yield* CircuitBreaker
      const scope = yield* freshScope
      yield* trip(scope)
      const results = yield* Effect.forEach(
        Array.from({ length: 100 }, (_, i) => i),
        () => Effect.exit(breaker.reset({ scope, reason: REASON, actor: bob })),
        { concurrency: "unbounded" }
      )
      const wins = results.filter(Exit.isSuccess)
      assert.strictEqual(wins.length, 1)
      const tags = new Set(
        results.flatMap((r) =>
          Exit.isFailure(r) ? r.cause.reasons.flatMap((x) => (x._tag === "Fail" ? [x.error._tag] : [x._tag])) : []
        )
      )
      for (const tag of tags) assert.include(["VersionConflict", "NotTripped"], tag)
      const history = yield* breaker.history(scope, { limit: 10 })
      assert.strictEqual(history.filter((t) => t.kind === "reset").length, 1)
    }).pipe(Effect.provide(layer()))
  )

  it.effect("a reset enters the quiet period, which ends in OPEN; resets are limited to one a minute", () =>
    Effect.gen(function* () {
      const breaker = yield* CircuitBreaker
      const scope = yield* freshScope
      yield* trip(scope)
      const reset = yield* breaker.reset({ scope, reason: REASON, actor: bob })
      assert.strictEqual(reset.kind, "reset")
      const view = yield* breaker.read(scope)
      assert.strictEqual(view.state, "QUIET_PERIOD")
      assert.strictEqual(view.trading_allowed, true)
      assert.strictEqual(view.quiet_until, new Date(T0 + 300_000).toISOString())

      // Tripped again 10 s later: a second reset within the minute is refused with Retry-After.
      yield* TestClock.adjust("10 seconds")
      yield* trip(scope)
      const limited = yield* Effect.flip(breaker.reset({ scope, reason: REASON, actor: bob }))
      assert.strictEqual(limited._tag, "ResetRateLimited")
      assert.approximately(limited._tag === "ResetRateLimited" ? limited.retryAfterSeconds : 0, 50, 0.01)
      yield* TestClock.adjust("50 seconds")
      assert.strictEqual((yield* breaker.reset({ scope, reason: REASON, actor: bob })).kind, "reset")

      // The quiet period ends five minutes after the reset, at the verifier's next pass.
      yield* TestClock.adjust("299 seconds")
      yield* breaker.verifyOnce
      assert.strictEqual((yield* breaker.read(scope)).state, "QUIET_PERIOD")
      yield* TestClock.adjust("1 second")
      const report = yield* breaker.verifyOnce
      assert.include(report.opened, scope)
      assert.strictEqual((yield* breaker.read(scope)).state, "OPEN")
      const kinds = (yield* breaker.history(scope, { limit: 10 })).map((t) => t.kind)
      assert.deepStrictEqual(kinds, ["quiet_period_ended", "reset", "trip", "reset", "trip"])
      assert.strictEqual(JSON.parse((yield* published(scope)) ?? "null").state, "OPEN")
    }).pipe(atT0)
  )

  it.live(
    "a verifier pass does not hang on a row another transaction holds locked",
    () =>
      Effect.gen(function* () {
        const breaker = yield* CircuitBreaker
        const scope = yield* freshScope
        yield* trip(scope)
        yield* breaker.reset({ scope, reason: REASON, actor: bob })
        yield* query("UPDATE breaker_scope SET quiet_until = now() - interval '1 second' WHERE scope = $1", [scope])
        // Another session holds the row: ending the quiet period has to wait for it.
        const released = Promise.withResolvers<void>()
        const locked = Promise.withResolvers<void>()
        const holder = withSql(stores.databaseUrl, (sql) =>
          sql.withTransaction(
            Effect.gen(function* () {
              yield* sql.unsafe("SELECT 1 FROM breaker_scope WHERE scope = $1 FOR UPDATE", [scope])
              locked.resolve()
              yield* Effect.promise(() => released.promise)
            })
          )
        )
        yield* Effect.promise(() => locked.promise)
        const started = Date.now()
        const blocked = yield* breaker.verifyOnce
        const tookMs = Date.now() - started
        released.resolve()
        yield* Effect.promise(() => holder)
        assert.notInclude(blocked.opened, scope)
        assert.isBelow(tookMs, 5000)
        assert.include((yield* breaker.verifyOnce).opened, scope)
        assert.strictEqual((yield* breaker.read(scope)).state, "OPEN")
      }).pipe(Effect.provide(breakerLayer(env(), false))),
    20_000
  )

  it.effect("a reset of an OPEN breaker is a conflict naming the state", () =>
    Effect.gen(function* () {
      const breaker = yield* CircuitBreaker
      const scope = yield* freshScope
      const error = yield* Effect.flip(breaker.reset({ scope, reason: REASON, actor: bob }))
      assert.strictEqual(error._tag, "NotTripped")
      assert.include(error.message, "OPEN")
      const stale = yield* Effect.flip(
        Effect.andThen(trip(scope), breaker.reset({ scope, reason: REASON, actor: bob, expectedVersion: 1 }))
      )
      assert.strictEqual(stale._tag, "VersionConflict")
    }).pipe(atT0)
  )

  it.effect("four-eyes: a reset becomes a request another operator approves within 15 minutes", () =>
    Effect.gen(function* () {
      const breaker = yield* CircuitBreaker
      const scope = yield* freshScope
      yield* breaker.updateSettings({ reset_approvals: 2 }, alice)
      yield* trip(scope)
      const requested = yield* breaker.reset({ scope, reason: REASON, actor: alice })
      assert.strictEqual(requested.kind, "approval_requested")
      if (requested.kind !== "approval_requested") return
      assert.strictEqual((yield* breaker.read(scope)).state, "TRIPPED")
      assert.deepStrictEqual(
        (yield* breaker.pendingApprovals(scope)).map((r) => r.id),
        [requested.request.id]
      )

      const own = yield* Effect.flip(breaker.approve({ scope, requestId: requested.request.id, actor: alice }))
      assert.strictEqual(own._tag, "ApprovalRefused")
      const approved = yield* breaker.approve({ scope, requestId: requested.request.id, actor: bob })
      assert.strictEqual(approved.kind === "reset" ? approved.record.state : "", "QUIET_PERIOD")
      assert.deepStrictEqual(approved.kind === "reset" ? approved.record.reset_by : null, bob)
      const again = yield* Effect.flip(breaker.approve({ scope, requestId: requested.request.id, actor: bob }))
      assert.strictEqual(again._tag, "ApprovalClosed")

      // A request left alone expires after 15 minutes.
      yield* TestClock.adjust("2 minutes")
      yield* trip(scope)
      const late = yield* breaker.reset({ scope, reason: REASON, actor: alice })
      yield* TestClock.adjust("15 minutes")
      const expired = yield* Effect.flip(
        breaker.approve({ scope, requestId: late.kind === "approval_requested" ? late.request.id : "", actor: bob })
      )
      assert.strictEqual(expired._tag, "ApprovalClosed")
      assert.include(expired.message, "expired")

      const actions = yield* query<{ action: string; actor_id: string }>(
        "SELECT action, actor_id FROM audit_log WHERE resource_id = $1 AND outcome = 'success' ORDER BY id",
        [scope]
      )
      assert.deepStrictEqual(
        actions.map((a) => [a.action, a.actor_id]),
        [
          ["breaker.scope_create", alice.id],
          ["breaker.trip", alice.id],
          ["breaker.reset_requested", alice.id],
          ["breaker.reset_approved", bob.id],
          ["breaker.trip", alice.id],
          ["breaker.reset_requested", alice.id]
        ]
      )
      yield* breaker.updateSettings({ reset_approvals: 1 }, alice)
    }).pipe(atT0)
  )

  it.effect("a trip after a reset request supersedes it", () =>
    Effect.gen(function* () {
      const breaker = yield* CircuitBreaker
      const scope = yield* freshScope
      yield* breaker.updateSettings({ reset_approvals: 2 }, alice)
      yield* trip(scope)
      const requested = yield* breaker.reset({ scope, reason: REASON, actor: alice })
      yield* breaker.updateSettings({ reset_approvals: 1 }, alice)
      yield* breaker.reset({ scope, reason: REASON, actor: bob })
      yield* TestClock.adjust("2 minutes")
      yield* trip(scope)
      const error = yield* Effect.flip(
        breaker.approve({
          scope,
          requestId: requested.kind === "approval_requested" ? requested.request.id : "",
          actor: bob
        })
      )
      assert.strictEqual(error._tag, "ApprovalClosed")
    }).pipe(atT0)
  )

  it.effect("while global is tripped every scope reads as tripped", () =>
    Effect.gen(function* () {
      const breaker = yield* CircuitBreaker
      const scope = yield* freshScope
      yield* trip("global")
      const view = yield* breaker.read(scope)
      assert.deepStrictEqual(
        [view.state, view.effective_state, view.halted_by, view.trading_allowed],
        ["OPEN", "TRIPPED", "global", false]
      )
      yield* breaker.reset({ scope: "global", reason: REASON, actor: bob })
      assert.strictEqual((yield* breaker.read(scope)).effective_state, "OPEN")
      assert.strictEqual((yield* Effect.flip(breaker.read("no-such-scope")))._tag, "ScopeNotFound")
      assert.strictEqual((yield* Effect.flip(breaker.createScope(scope, alice)))._tag, "ScopeExists")
    }).pipe(atT0)
  )

  it.effect("the verifier repairs a published copy that drifted", () =>
    Effect.gen(function* () {
      const breaker = yield* CircuitBreaker
      const scope = yield* freshScope
      const key = `${stores.redisKeyPrefix}circuit_breaker:state:${scope}`
      yield* Effect.promise(() => redis.set(key, JSON.stringify({ state: "OPEN", scope, version: 99 })))
      const report = yield* breaker.verifyOnce
      assert.deepStrictEqual(report.repaired, [scope])
      const view = yield* breaker.read(scope)
      assert.strictEqual(JSON.parse((yield* published(scope)) ?? "null").version, view.version)
      yield* Effect.promise(() => redis.del(key))
      assert.include((yield* breaker.verifyOnce).repaired, scope)
      assert.deepStrictEqual((yield* breaker.verifyOnce).repaired, [])
    }).pipe(atT0)
  )

  it.effect(
    "cb_staleness_seconds is measured when scraped: it rises while nothing verifies, not only on failures",
    () =>
      Effect.gen(function* () {
        const breaker = yield* CircuitBreaker
        const scope = yield* freshScope
        const staleness = scopeGauge("cb_staleness_seconds", scope)
        yield* breaker.verifyOnce
        assert.strictEqual(yield* staleness, 0)
        // No pass runs at all, as with a verifier stuck on a call: the scrape still sees the age.
        yield* TestClock.adjust("30 seconds")
        assert.strictEqual(yield* staleness, 30)
        yield* breaker.verifyOnce
        assert.strictEqual(yield* staleness, 0)
      }).pipe(atT0)
  )

  it.live("trips that commit while the verifier runs are neither reconciled again nor overwritten", () =>
    Effect.gen(function* () {
      const breaker = yield* CircuitBreaker
      const scopes = yield* Effect.forEach(Array.from({ length: 60 }), () => freshScope)
      // The verifier reads the truth, then the published copies: a trip committed and published
      // between the two makes the copy newer than the truth it read. That is a race, not a trip
      // published while the database was down, and not drift.
      let tripping = true
      const reports: Array<{ readonly repaired: ReadonlyArray<string>; readonly reconciled: number }> = []
      const verifying = yield* Effect.forkChild(
        Effect.whileLoop({
          while: () => tripping,
          body: () => breaker.verifyOnce,
          step: (report) => reports.push(report)
        })
      )
      for (const scope of scopes) yield* trip(scope)
      tripping = false
      yield* Fiber.join(verifying)
      assert.isAbove(reports.length, 3)
      assert.deepStrictEqual(
        reports.filter((r) => r.reconciled > 0 || r.repaired.some((s) => scopes.includes(s))),
        []
      )
      const kinds = yield* query<{ kind: string; n: string }>(
        "SELECT kind, count(*) AS n FROM breaker_transition WHERE scope = ANY($1) GROUP BY kind",
        [scopes]
      )
      assert.deepStrictEqual(
        kinds.map((k) => [k.kind, Number(k.n)]),
        [["trip", scopes.length]]
      )
      for (const scope of scopes) {
        const view = yield* breaker.read(scope)
        assert.strictEqual(JSON.parse((yield* published(scope)) ?? "null").version, view.version)
      }
    }).pipe(Effect.provide(breakerLayer(env(), false)))
  )

  it.live("the state survives a restart", () =>
    Effect.gen(function* () {
      const scope = yield* Effect.scoped(
        Effect.gen(function* () {
          const scope = yield* freshScope
          yield* trip(scope)
          return scope
        }).pipe(Effect.provide(layer()))
      )
      const after = yield* Effect.scoped(
        Effect.flatMap(CircuitBreaker, (b) => b.read(scope)).pipe(Effect.provide(layer()))
      )
      assert.strictEqual(after.state, "TRIPPED")
      assert.strictEqual(after.trip_reason, REASON)
    })
  )

  it.live("a transition in one process reaches another's change stream and reading", () =>
    Effect.gen(function* () {
      const breaker = yield* CircuitBreaker
      const scope = yield* freshScope
      // A second process: its own memo map, so nothing (supervisor, pool, subscriber) is shared.
      const other = Context.get(
        yield* Layer.buildWithMemoMap(layer(), yield* Layer.makeMemoMap, yield* Effect.scope),
        CircuitBreaker
      )
      const received = yield* other.changes.pipe(
        Stream.filter((c) => c.type === "transition" && c.record.scope === scope),
        Stream.take(1),
        Stream.runCollect,
        Effect.forkChild
      )
      yield* Effect.sleep("200 millis")
      yield* trip(scope)
      const [change] = yield* Fiber.join(received)
      assert.strictEqual(change?.type === "transition" ? change.record.state : "", "TRIPPED")
      assert.strictEqual((yield* other.read(scope)).state, "TRIPPED")
      void breaker
    }).pipe(Effect.provide(layer()), Effect.scoped)
  )

  it.live("a trip from a stale snapshot falls back to the locked path and still wins", () =>
    Effect.gen(function* () {
      const breaker = yield* CircuitBreaker
      const scope = yield* freshScope
      // A second process that hears nothing (no listener): its snapshot stays at version 1.
      const stale = Context.get(
        yield* Layer.buildWithMemoMap(breakerLayer(env(), false), yield* Layer.makeMemoMap, yield* Effect.scope),
        CircuitBreaker
      )
      yield* trip(scope)
      yield* breaker.reset({ scope, reason: REASON, actor: bob })
      assert.strictEqual((yield* stale.read(scope)).version, 1)
      const outcome = yield* stale.trip({ scope, reason: REASON, source: "automatic", actor: alice })
      assert.deepStrictEqual([outcome.changed, outcome.persisted, outcome.record.version], [true, true, 4])
      const kinds = (yield* breaker.history(scope, { limit: 10 })).map((t) => [t.kind, t.version])
      assert.deepStrictEqual(kinds, [
        ["trip", 4],
        ["reset", 3],
        ["trip", 2]
      ])
    }).pipe(Effect.provide(layer()), Effect.scoped)
  )
})
