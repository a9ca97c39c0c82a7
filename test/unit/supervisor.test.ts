import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Layer, Ref } from "effect"
import { TestClock } from "effect/testing"
import { Metrics } from "../../src/core/observability/metrics.ts"
import { periodicFiber, restartDelay, Supervisor } from "../../src/core/supervisor.ts"

const TestSupervisor = Supervisor.layer.pipe(Layer.provideMerge(Metrics.layer))

const metricValue = (name: string, fiber: string) =>
  Effect.gen(function* () {
    const metrics = yield* Metrics
    const metric = metrics.registry.getSingleMetric(name)
    if (metric === undefined) return undefined
    const data = yield* Effect.promise(async () => metric.get())
    return data.values.find((v) => v.labels.fiber === fiber)?.value
  })

describe("supervisor", () => {
  it("computes capped exponential restart delays", () => {
    const ms = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => Duration.toMillis(restartDelay(n, "1 second", "60 seconds")))
    assert.deepStrictEqual(ms, [1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000])
  })

  it.effect("restarts a failing fiber with backoff and counts the restarts", () =>
    Effect.gen(function* () {
      const supervisor = yield* Supervisor
      const runs = yield* Ref.make(0)
      yield* supervisor.start({
        name: "flaky",
        replicas: "each",
        run: () => Ref.update(runs, (n) => n + 1).pipe(Effect.andThen(Effect.fail("boom")))
      })
      yield* Effect.yieldNow
      assert.strictEqual(yield* Ref.get(runs), 1)
      // 1 s, then 2 s, then 4 s between attempts.
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Ref.get(runs), 2)
      yield* TestClock.adjust("1999 millis")
      assert.strictEqual(yield* Ref.get(runs), 2)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* Ref.get(runs), 3)
      const [status] = yield* supervisor.statuses
      assert.strictEqual(status?.name, "flaky")
      assert.strictEqual(status?.state, "backing-off")
      assert.strictEqual(status?.restarts, 3)
      assert.strictEqual(status?.lastFailure?.message.includes("boom"), true)
      assert.strictEqual(yield* metricValue("breakwater_fiber_restarts_total", "flaky"), 3)
    }).pipe(Effect.provide(TestSupervisor))
  )

  it.effect("records successes and resets the backoff after one", () =>
    Effect.gen(function* () {
      const supervisor = yield* Supervisor
      const steps = yield* Ref.make(0)
      // Fails on the 2nd step only: after a success the next restart waits the initial delay again.
      const step = Ref.updateAndGet(steps, (n) => n + 1).pipe(
        Effect.flatMap((n) => (n === 2 ? Effect.fail("second step fails") : Effect.void))
      )
      yield* supervisor.start(periodicFiber("sampler", "10 seconds", step))
      yield* Effect.yieldNow
      const [first] = yield* supervisor.statuses
      assert.strictEqual(first?.lastSuccessAt, 0)
      assert.strictEqual(yield* metricValue("breakwater_fiber_last_success_timestamp_seconds", "sampler"), 0)
      yield* TestClock.adjust("10 seconds") // step 2 fails
      assert.strictEqual((yield* supervisor.statuses)[0]?.state, "backing-off")
      yield* TestClock.adjust("1 second") // restart: step 3 succeeds
      const [after] = yield* supervisor.statuses
      assert.strictEqual(after?.state, "running")
      assert.strictEqual(after?.lastSuccessAt, 11_000)
      assert.strictEqual(yield* Ref.get(steps), 3)
    }).pipe(Effect.provide(TestSupervisor))
  )

  it.effect("restarts a fiber that ends instead of running for ever", () =>
    Effect.gen(function* () {
      const supervisor = yield* Supervisor
      const runs = yield* Ref.make(0)
      yield* supervisor.start({ name: "quitter", replicas: "each", run: () => Ref.update(runs, (n) => n + 1) })
      yield* Effect.yieldNow
      yield* TestClock.adjust("1 second")
      assert.strictEqual(yield* Ref.get(runs), 2)
      assert.strictEqual((yield* supervisor.statuses)[0]?.lastFailure?.message, "fiber ended")
    }).pipe(Effect.provide(TestSupervisor))
  )

  it.effect("stops its fibers when the owning scope closes", () =>
    Effect.gen(function* () {
      const supervisor = yield* Supervisor
      const runs = yield* Ref.make(0)
      yield* Effect.scoped(
        supervisor
          .start(
            periodicFiber(
              "scoped",
              "1 second",
              Ref.update(runs, (n) => n + 1)
            )
          )
          .pipe(Effect.andThen(Effect.yieldNow))
      )
      yield* TestClock.adjust("5 seconds")
      assert.strictEqual(yield* Ref.get(runs), 1)
      assert.strictEqual((yield* supervisor.statuses).length, 0)
    }).pipe(Effect.provide(TestSupervisor))
  )
})
