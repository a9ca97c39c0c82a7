/**
 * The ApiRateLimiter service over the in-process shared state: two limiters on one store stand for
 * two replicas on one Redis. They share one key's budget once their counts are synced; while the
 * store fails each goes on from its own counts, logs the outage once, and hands over the counts it
 * held back when the store answers again. (The Redis counters themselves are contract-tested in
 * test/integration/shared-state.test.ts; two real app instances in test/integration/api-rate-limit.test.ts.)
 */
import { assert, describe, it } from "@effect/vitest"
import { Context, Effect, Layer, Logger, References } from "effect"
import { TestClock } from "effect/testing"
import { ApiRateLimiter, counterKey } from "../../src/core/auth/api-rate-limit.ts"
import { AppConfig } from "../../src/core/config.ts"
import { Metrics } from "../../src/core/observability/metrics.ts"
import {
  makeInProcessState,
  SharedState,
  type SharedStateShape,
  StoreUnavailable
} from "../../src/core/redis/shared-state.ts"

/** One replica's limiter (and its metrics) on `store`; the test clock starts at 0, in window 0. */
const replica = (store: SharedStateShape, limit = 10) =>
  Effect.map(
    Layer.build(
      ApiRateLimiter.layer.pipe(
        Layer.provideMerge(Metrics.layer),
        Layer.provide(Layer.succeed(SharedState, store)),
        Layer.provide(AppConfig.layerFrom({ API_RATE_LIMIT_PER_MINUTE: String(limit) }))
      )
    ),
    (context) => ({ limiter: Context.get(context, ApiRateLimiter), metrics: Context.get(context, Metrics) })
  )

const takeMany = (limiter: ApiRateLimiter["Service"], key: string, n: number, now = 0) => {
  let refused = 0
  for (let i = 0; i < n; i++) if (limiter.take(key, now) !== undefined) refused++
  return refused
}

/** A store whose counters fail while `down.value` is true. */
const flakyStore = (down: { value: boolean }): SharedStateShape => {
  const store = makeInProcessState()
  return {
    ...store,
    incrementMany: (increments, ttl) =>
      down.value
        ? Effect.fail(new StoreUnavailable({ message: "redis incrby failed: Connection is closed." }))
        : store.incrementMany(increments, ttl)
  }
}

const captureLogs = () => {
  const lines: Array<string> = []
  const logger = Logger.make((options) => {
    const parts = Array.isArray(options.message) ? options.message : [options.message]
    lines.push(`${options.logLevel} ${parts.map(String).join(" ")}`)
  })
  return { lines, layer: Logger.layer([logger]) }
}

describe("ApiRateLimiter", () => {
  it.effect("shares one key's budget between replicas once their counts are synced", () =>
    Effect.gen(function* () {
      const store = makeInProcessState()
      const a = (yield* replica(store)).limiter
      const b = (yield* replica(store)).limiter
      assert.strictEqual(takeMany(a, "key-1", 6), 0)
      assert.strictEqual(takeMany(b, "key-1", 4), 0)
      // Before a sync each replica knows only its own requests.
      assert.strictEqual(a.take("key-1", 0), undefined)
      yield* a.sync
      yield* b.sync
      yield* a.sync
      // 11 in all (the one above included): both refuse, and the store holds the total.
      assert.isDefined(a.take("key-1", 1000))
      assert.isDefined(b.take("key-1", 1000))
      assert.deepStrictEqual(yield* store.incrementMany([{ key: counterKey("key-1", 0), by: 0 }], 180), [11])
      // Another key is not touched.
      assert.strictEqual(takeMany(b, "key-2", 10, 1000), 0)
    })
  )

  it.effect("counts refusals in breakwater_api_rate_limited_total, without a per-key label", () =>
    Effect.gen(function* () {
      const { limiter, metrics } = yield* replica(makeInProcessState(), 2)
      assert.strictEqual(takeMany(limiter, "key-1", 5), 3)
      const metric = metrics.registry.getSingleMetric("breakwater_api_rate_limited_total")
      const data = yield* Effect.promise(async () => metric?.get())
      assert.deepStrictEqual(
        data?.values.map((v) => [v.labels, v.value]),
        [[{}, 3]]
      )
    })
  )

  it.effect("while the store fails, limits from its own counts, logs once, and hands the counts over later", () => {
    const logs = captureLogs()
    return Effect.gen(function* () {
      const down = { value: true }
      const store = flakyStore(down)
      const { limiter } = yield* replica(store)
      assert.strictEqual(takeMany(limiter, "key-1", 4), 0)
      yield* limiter.sync
      assert.strictEqual(takeMany(limiter, "key-1", 4), 0)
      yield* limiter.sync
      yield* limiter.sync
      // The local count still holds the line.
      assert.strictEqual(takeMany(limiter, "key-1", 5), 3)
      assert.deepStrictEqual(
        logs.lines.filter((l) => l.includes("rate limits")),
        [
          "Warn API rate limits cannot be shared (redis incrby failed: Connection is closed.): each process limits keys from its own counts until the store answers"
        ]
      )
      down.value = false
      yield* limiter.sync
      assert.deepStrictEqual(yield* store.incrementMany([{ key: counterKey("key-1", 0), by: 0 }], 180), [10])
      assert.strictEqual(logs.lines.at(-1), "Info API rate limits are shared again")
      // A second outage is logged again, once.
      down.value = true
      yield* limiter.sync
      yield* limiter.sync
      assert.strictEqual(logs.lines.filter((l) => l.startsWith("Warn")).length, 2)
    }).pipe(Effect.provide(logs.layer), Effect.provideService(References.MinimumLogLevel, "Info"))
  })

  it.effect("with API_RATE_LIMIT_PER_MINUTE=0 allows everything and shares nothing", () =>
    Effect.gen(function* () {
      const down = { value: true }
      const { limiter } = yield* replica(flakyStore(down), 0)
      assert.strictEqual(limiter.limitPerMinute, 0)
      assert.strictEqual(takeMany(limiter, "key-1", 10_000), 0)
      assert.strictEqual(limiter.trackedKeys(), 0)
      yield* limiter.sync
    })
  )

  it.effect("forgets keys idle for two minutes", () =>
    Effect.gen(function* () {
      const { limiter } = yield* replica(makeInProcessState())
      takeMany(limiter, "key-1", 3)
      yield* limiter.sync
      assert.strictEqual(limiter.trackedKeys(), 1)
      yield* TestClock.adjust("1 minute")
      yield* limiter.sync
      // Its requests are last minute's now: still counted.
      assert.strictEqual(limiter.trackedKeys(), 1)
      yield* TestClock.adjust("1 minute")
      yield* limiter.sync
      assert.strictEqual(limiter.trackedKeys(), 0)
    })
  )
})
