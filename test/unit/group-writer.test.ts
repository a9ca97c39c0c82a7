import { assert, describe, it } from "@effect/vitest"
import { Deferred, Effect, Fiber } from "effect"
import { systemActor } from "../../src/core/audit/entry.ts"
import { makeGroupWriter, type Waiting } from "../../src/core/audit/group-writer.ts"

const entry = (i: number) => ({
  actor: systemActor("test"),
  action: "test.write",
  resourceType: "test",
  resourceId: String(i),
  outcome: "success" as const
})

/** A writer whose every write waits until the test releases it, recording each group. */
const harness = (parallelFrom: number) =>
  Effect.gen(function* () {
    const groups: Array<ReadonlyArray<string | undefined>> = []
    const releases: Array<Deferred.Deferred<boolean>> = []
    const writer = makeGroupWriter(
      100,
      (group: ReadonlyArray<Waiting>) =>
        Effect.gen(function* () {
          const release = yield* Deferred.make<boolean>()
          groups.push(group.map((w) => w.entry.resourceId ?? undefined))
          releases.push(release)
          return yield* Deferred.await(release)
        }),
      parallelFrom
    )
    const loops = yield* Effect.forkChild(
      Effect.all([writer.loop(Effect.void), writer.loop(Effect.void), writer.loop(Effect.void)], {
        concurrency: "unbounded"
      })
    )
    const submit = (from: number, to: number) =>
      Effect.forEach(
        Array.from({ length: to - from }, (_, k) => from + k),
        (i) => Effect.forkChild(writer.submit(entry(i))),
        { concurrency: 1 }
      )
    return { groups, releases, submit, loops }
  })

describe("group writer", () => {
  it.effect("writes a lone entry at once, then lets small groups wait for the commit in flight", () =>
    Effect.gen(function* () {
      const { groups, releases, submit, loops } = yield* harness(5)
      const first = yield* submit(0, 1)
      yield* Effect.yieldNow
      assert.deepStrictEqual(groups, [["0"]])

      // One group is committing: four more entries are fewer than five, so no second write.
      const waiting = yield* submit(1, 5)
      yield* Effect.yieldNow
      assert.strictEqual(groups.length, 1)

      // The fifth makes the waiting group worth a parallel commit.
      const fifth = yield* submit(5, 6)
      yield* Effect.yieldNow
      assert.deepStrictEqual(groups[1], ["1", "2", "3", "4", "5"])

      yield* Deferred.succeed(releases[0]!, true)
      assert.strictEqual((yield* Fiber.await(first[0]!))._tag, "Success")
      // The callers of the second group are still waiting for theirs.
      assert.strictEqual(waiting[0]!.pollUnsafe(), undefined)
      yield* Deferred.succeed(releases[1]!, true)
      for (const f of [...waiting, ...fifth]) assert.strictEqual((yield* Fiber.await(f))._tag, "Success")
      yield* Fiber.interrupt(loops)
    })
  )

  it.effect("writes what waited as soon as the commit in flight ends", () =>
    Effect.gen(function* () {
      const { groups, releases, submit, loops } = yield* harness(50)
      yield* submit(0, 1)
      yield* Effect.yieldNow
      const rest = yield* submit(1, 4)
      yield* Effect.yieldNow
      assert.strictEqual(groups.length, 1)
      yield* Deferred.succeed(releases[0]!, true)
      yield* Effect.yieldNow
      assert.deepStrictEqual(groups[1], ["1", "2", "3"])
      yield* Deferred.succeed(releases[1]!, true)
      for (const f of rest) assert.strictEqual((yield* Fiber.await(f))._tag, "Success")
      yield* Fiber.interrupt(loops)
    })
  )

  it.effect("fails every caller of a group that could not be written, and goes on", () =>
    Effect.gen(function* () {
      const { releases, submit, loops } = yield* harness(5)
      const failed = yield* submit(0, 1)
      yield* Effect.yieldNow
      yield* Deferred.succeed(releases[0]!, false)
      const exit = yield* Fiber.await(failed[0]!)
      assert.strictEqual(exit._tag, "Failure")
      const next = yield* submit(1, 2)
      yield* Effect.yieldNow
      yield* Deferred.succeed(releases[1]!, true)
      assert.strictEqual((yield* Fiber.await(next[0]!))._tag, "Success")
      yield* Fiber.interrupt(loops)
    })
  )
})
