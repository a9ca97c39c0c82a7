/**
 * The `retention.daily` fiber under the TestClock, against a stand-in runner that records the
 * slots it is asked for: it waits for the configured hour, asks again while the lock is held,
 * catches up a slot whose window is still open after a restart, and moves on to the next day.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer, Ref } from "effect"
import { TestClock } from "effect/testing"
import { AppConfig } from "../../src/core/config.ts"
import { RETRY_DELAY, retentionFiber } from "../../src/core/retention/fiber.ts"
import { Retention, type ScheduledOutcome } from "../../src/core/retention/retention.ts"

const at = (iso: string) => Date.parse(iso)
const report = {
  dryRun: false,
  startedAt: "2026-06-15T03:00:00.000Z",
  finishedAt: "2026-06-15T03:00:00.000Z",
  ok: true,
  jobs: []
}

/** A runner that answers the scripted outcomes in turn (then "ran"), recording each slot asked for. */
const scripted = (outcomes: ReadonlyArray<ScheduledOutcome["kind"]>) =>
  Effect.gen(function* () {
    const asked = yield* Ref.make<ReadonlyArray<string>>([])
    const left = [...outcomes]
    const layer = Layer.succeed(
      Retention,
      Retention.of({
        register: () => Effect.void,
        jobs: Effect.succeed([]),
        list: Effect.succeed([]),
        run: () => Effect.die("not used"),
        runScheduled: (slot) =>
          Effect.gen(function* () {
            yield* Ref.update(asked, (s) => [...s, slot.toISOString()])
            const kind = left.shift() ?? "ran"
            return kind === "ran" ? { kind, report } : { kind }
          })
      })
    )
    return { asked, layer }
  })

/** Starts the fiber at `start` with the hour `hour`; returns what it asked for and its heartbeats. */
const startFiber = (start: string, hour: number, outcomes: ReadonlyArray<ScheduledOutcome["kind"]> = []) =>
  Effect.gen(function* () {
    yield* TestClock.setTime(at(start))
    const { asked, layer } = yield* scripted(outcomes)
    const beats = yield* Ref.make(0)
    const fiber = yield* retentionFiber
      .run(Ref.update(beats, (n) => n + 1))
      .pipe(
        Effect.provide(Layer.merge(layer, AppConfig.layerFrom({ RETENTION_HOUR_UTC: String(hour) }))),
        Effect.forkChild
      )
    yield* Effect.yieldNow
    return { asked: Ref.get(asked), beats: Ref.get(beats), fiber }
  })

describe("retention.daily fiber", () => {
  it.effect("waits for the configured hour (UTC), runs once, then waits a day", () =>
    Effect.gen(function* () {
      const { asked, beats, fiber } = yield* startFiber("2026-06-15T01:30:00Z", 3)
      assert.deepStrictEqual(yield* asked, [])
      yield* TestClock.adjust("89 minutes")
      assert.deepStrictEqual(yield* asked, [])
      yield* TestClock.adjust("1 minute")
      assert.deepStrictEqual(yield* asked, ["2026-06-15T03:00:00.000Z"])
      assert.strictEqual(yield* beats, 1)
      yield* TestClock.adjust("23 hours")
      assert.deepStrictEqual(yield* asked, ["2026-06-15T03:00:00.000Z"])
      yield* TestClock.adjust("1 hour")
      assert.deepStrictEqual(yield* asked, ["2026-06-15T03:00:00.000Z", "2026-06-16T03:00:00.000Z"])
      assert.strictEqual(yield* beats, 2)
      yield* Fiber.interrupt(fiber)
    })
  )

  it.effect("asks again while another replica holds the lock; a slot done elsewhere counts as done", () =>
    Effect.gen(function* () {
      const { asked, beats, fiber } = yield* startFiber("2026-06-15T02:59:00Z", 3, ["busy", "busy", "done"])
      yield* TestClock.adjust("1 minute")
      assert.strictEqual((yield* asked).length, 1)
      assert.strictEqual(yield* beats, 0)
      yield* TestClock.adjust(RETRY_DELAY)
      assert.strictEqual((yield* asked).length, 2)
      yield* TestClock.adjust(RETRY_DELAY)
      assert.deepStrictEqual(yield* asked, [
        "2026-06-15T03:00:00.000Z",
        "2026-06-15T03:00:00.000Z",
        "2026-06-15T03:00:00.000Z"
      ])
      assert.strictEqual(yield* beats, 1)
      // Done: nothing more until the next day.
      yield* TestClock.adjust("1 hour")
      assert.strictEqual((yield* asked).length, 3)
      yield* Fiber.interrupt(fiber)
    })
  )

  it.effect("gives a busy slot up when its window closes and runs the next day", () =>
    Effect.gen(function* () {
      const { asked, fiber } = yield* startFiber("2026-06-15T03:00:00Z", 3, Array(20).fill("busy"))
      yield* TestClock.adjust("2 hours")
      // At 03:00, 03:05 … 03:55: twelve tries inside the one-hour window, none after it.
      assert.strictEqual((yield* asked).length, 12)
      yield* TestClock.adjust("22 hours")
      assert.strictEqual((yield* asked).at(-1), "2026-06-16T03:00:00.000Z")
      yield* Fiber.interrupt(fiber)
    })
  )

  it.effect("a replica (re)started within the window catches the slot up at once; later it waits for tomorrow", () =>
    Effect.gen(function* () {
      const early = yield* startFiber("2026-06-15T03:20:00Z", 3)
      assert.deepStrictEqual(yield* early.asked, ["2026-06-15T03:00:00.000Z"])
      yield* Fiber.interrupt(early.fiber)

      const late = yield* startFiber("2026-06-15T04:00:00Z", 3)
      assert.deepStrictEqual(yield* late.asked, [])
      yield* TestClock.adjust("23 hours")
      assert.deepStrictEqual(yield* late.asked, ["2026-06-16T03:00:00.000Z"])
      yield* Fiber.interrupt(late.fiber)
    })
  )
})
