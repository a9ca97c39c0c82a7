/**
 * One contract, two implementations: the Redis-backed shared state and its in-process twin must
 * behave the same for everything the breaker and the rate limits rely on.
 */
import { randomBytes } from "node:crypto"
import { Effect, Fiber, Option, Schedule, Stream } from "effect"
import { Redis } from "ioredis"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connect } from "../../src/core/redis/client.ts"
import { makeInProcessState, makeRedisState, type SharedStateShape } from "../../src/core/redis/shared-state.ts"
import { redisUrl } from "../support/services.ts"
import { startTcpProxy } from "../support/tcp-proxy.ts"

const prefix = `test:${randomBytes(4).toString("hex")}:`
const client = connect(redisUrl, () => undefined, Redis)
// The client fails fast by design: wait for the connection before the first command.
beforeAll(() => (client.status === "ready" ? undefined : new Promise((resolve) => client.once("ready", resolve))))
afterAll(() => client.quit())

/** Waits until Redis counts `n` subscribers on a prefixed channel. */
const subscribers = (channel: string, n: number) =>
  Effect.promise(() => client.pubsub("NUMSUB", channel)).pipe(
    Effect.flatMap((reply) =>
      Number((reply as ReadonlyArray<unknown>)[1]) >= n ? Effect.void : Effect.fail("not yet")
    ),
    Effect.retry(Schedule.spaced("20 millis"))
  )

const implementations: ReadonlyArray<
  readonly [string, () => Effect.Effect<SharedStateShape, never, import("effect").Scope.Scope>]
> = [
  ["in-process", () => Effect.succeed(makeInProcessState())],
  ["redis", () => makeRedisState(client, prefix)]
]

const run = <A, E>(effect: Effect.Effect<A, E, import("effect").Scope.Scope>) =>
  Effect.runPromise(Effect.scoped(effect))

describe.each(implementations)("shared state (%s)", (mode, make) => {
  it("sets, gets and deletes keys", () =>
    run(
      Effect.gen(function* () {
        const state = yield* make()
        expect(state.mode).toBe(mode)
        expect(yield* state.get("k")).toEqual(Option.none())
        yield* state.set("k", "v1")
        yield* state.set("k", "v2")
        expect(yield* state.get("k")).toEqual(Option.some("v2"))
        yield* state.set("k2", "w")
        expect(yield* state.getMany(["k", "missing", "k2"])).toEqual([
          Option.some("v2"),
          Option.none(),
          Option.some("w")
        ])
        yield* state.delete("k")
        expect(yield* state.get("k")).toEqual(Option.none())
      })
    ))

  it("delivers published messages to every subscriber of the channel, in order, and not to others", () =>
    run(
      Effect.gen(function* () {
        const state = yield* make()
        const take = (channel: string, n: number) =>
          Effect.forkChild(Stream.runCollect(Stream.take(state.subscribe(channel), n)))
        const a = yield* take("changes", 3)
        const b = yield* take("changes", 3)
        const other = yield* take("other", 1)
        // Let the subscriptions reach the store before publishing.
        if (mode === "redis") yield* Effect.all([subscribers(`${prefix}changes`, 1), subscribers(`${prefix}other`, 1)])
        else yield* Effect.yieldNow
        for (const m of ["1", "2", "3"]) yield* state.publish("changes", m)
        yield* state.publish("other", "x")
        expect(yield* Fiber.join(a)).toEqual(["1", "2", "3"])
        expect(yield* Fiber.join(b)).toEqual(["1", "2", "3"])
        expect(yield* Fiber.join(other)).toEqual(["x"])
      }).pipe(Effect.timeout("5 seconds"))
    ))

  it("sets a key and publishes in one step: once the message is heard, the key holds the new value", () =>
    run(
      Effect.gen(function* () {
        const state = yield* make()
        yield* state.set("state", "OPEN")
        // What the subscriber reads the moment the message arrives.
        const heard = yield* Effect.forkChild(
          Stream.runCollect(
            Stream.take(state.subscribe("statechanges"), 1).pipe(
              Stream.mapEffect((message) => Effect.map(state.get("state"), (value) => [message, value] as const))
            )
          )
        )
        if (mode === "redis") yield* subscribers(`${prefix}statechanges`, 1)
        else yield* Effect.yieldNow
        yield* state.setAndPublish("state", "TRIPPED", "statechanges", "changed")
        expect(yield* Fiber.join(heard)).toEqual([["changed", Option.some("TRIPPED")]])
      }).pipe(Effect.timeout("5 seconds"))
    ))

  it("sets a key only while it holds the value expected (or is absent, when none is expected)", () =>
    run(
      Effect.gen(function* () {
        const state = yield* make()
        expect(yield* state.setIfUnchanged("cas", Option.none(), "v1")).toBe(true)
        expect(yield* state.setIfUnchanged("cas", Option.none(), "other")).toBe(false)
        expect(yield* state.setIfUnchanged("cas", Option.some("v0"), "other")).toBe(false)
        expect(yield* state.get("cas")).toEqual(Option.some("v1"))
        expect(yield* state.setIfUnchanged("cas", Option.some("v1"), "v2")).toBe(true)
        expect(yield* state.get("cas")).toEqual(Option.some("v2"))
        // An empty string is a value, not absence.
        yield* state.set("cas", "")
        expect(yield* state.setIfUnchanged("cas", Option.none(), "x")).toBe(false)
        expect(yield* state.setIfUnchanged("cas", Option.some(""), "v3")).toBe(true)
        expect(yield* state.get("cas")).toEqual(Option.some("v3"))
        yield* state.delete("cas")
      })
    ))

  it("adds to counters in one step and answers the totals; a counter expires after its time to live", () =>
    run(
      Effect.gen(function* () {
        const state = yield* make()
        expect(yield* state.incrementMany([], 60)).toEqual([])
        // A missing counter starts at 0; adding 0 reads it.
        expect(
          yield* state.incrementMany(
            [
              { key: "count:a", by: 3 },
              { key: "count:b", by: 0 }
            ],
            60
          )
        ).toEqual([3, 0])
        expect(
          yield* state.incrementMany(
            [
              { key: "count:a", by: 2 },
              { key: "count:b", by: 1 },
              { key: "count:a", by: 0 }
            ],
            60
          )
        ).toEqual([5, 1, 5])
        if (mode === "redis") {
          const ttl = yield* Effect.promise(() => client.ttl(`${prefix}count:a`))
          expect(ttl).toBeGreaterThan(0)
          expect(ttl).toBeLessThanOrEqual(60)
        }
        yield* state.incrementMany([{ key: "count:short", by: 7 }], 1)
        yield* Effect.sleep("1100 millis")
        expect(yield* state.incrementMany([{ key: "count:short", by: 0 }], 1)).toEqual([0])
      })
    ))

  it("answers a ping", () =>
    run(
      Effect.gen(function* () {
        const state = yield* make()
        expect(yield* state.ping).toBeGreaterThanOrEqual(0)
      })
    ))
})

describe("redis shared state across a lost connection", () => {
  it("subscribes again once Redis is back: messages published afterwards arrive", async () => {
    const { hostname, port } = new URL(redisUrl)
    const proxy = await startTcpProxy(hostname, Number(port || 6379))
    const viaProxy = connect(`redis://127.0.0.1:${proxy.port}`, () => undefined, Redis)
    try {
      await new Promise((resolve) => viaProxy.once("ready", resolve))
      await run(
        Effect.gen(function* () {
          const state = yield* makeRedisState(viaProxy, prefix)
          const heard = yield* Effect.forkChild(Stream.runCollect(Stream.take(state.subscribe("after-cut"), 1)))
          yield* subscribers(`${prefix}after-cut`, 1)
          yield* Effect.promise(() => proxy.cut())
          // The subscriber's connection is gone: Redis counts no subscriber any more.
          yield* Effect.promise(() => client.pubsub("NUMSUB", `${prefix}after-cut`)).pipe(
            Effect.flatMap((reply) =>
              Number((reply as ReadonlyArray<unknown>)[1]) === 0 ? Effect.void : Effect.fail("still subscribed")
            ),
            Effect.retry(Schedule.spaced("20 millis"))
          )
          yield* Effect.promise(() => proxy.restore())
          // Published directly, not through the connection that was cut.
          yield* subscribers(`${prefix}after-cut`, 1)
          yield* Effect.promise(() => client.publish(`${prefix}after-cut`, "back"))
          expect(yield* Fiber.join(heard)).toEqual(["back"])
        }).pipe(Effect.timeout("10 seconds"))
      )
    } finally {
      viaProxy.disconnect()
      await proxy.close()
    }
  }, 20_000)
})

describe("redis shared state while Redis is unreachable", () => {
  it("fails fast with StoreUnavailable instead of queueing", async () => {
    const dead = connect("redis://127.0.0.1:1", () => undefined, Redis)
    try {
      const started = Date.now()
      const result = await run(
        Effect.gen(function* () {
          const state = yield* makeRedisState(dead, "x:")
          const counters = yield* Effect.flip(state.incrementMany([{ key: "k", by: 1 }], 60))
          expect(counters._tag).toBe("StoreUnavailable")
          return yield* Effect.flip(state.set("k", "v"))
        })
      )
      expect(result._tag).toBe("StoreUnavailable")
      expect(Date.now() - started).toBeLessThan(2000)
    } finally {
      dead.disconnect()
    }
  })
})
