/**
 * The event bus layer, in-process and under the TestClock: live delivery, resumption after an id
 * (exactly the missed events, or a reset), the cut-off of a reader that falls behind, the defects
 * of a bad publish, and the relay between two buses (messages carried by hand, as the relay fiber
 * carries them through Redis): own messages skipped, `replicate: false` kept home, a lost message
 * resetting every client. The shared connection bound (the setting `events.max_streams`, read
 * from a settings service whose value the test changes) and the keep-alive timer are at the end.
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, Context, Effect, Exit, Fiber, Layer, Option, Queue, Schema, Stream } from "effect"
import { TestClock } from "effect/testing"
import { Permissions } from "../../src/core/auth/permissions.ts"
import { AppConfig } from "../../src/core/config.ts"
import { type BusEvent, EventBus } from "../../src/core/contracts/event-bus.ts"
import { EventRelay, LIVE_CAPACITY } from "../../src/core/events/bus.ts"
import { EventsLive } from "../../src/core/events/index.ts"
import { keepAliveFiber, maxStreams, SseStreams, TooManyStreams } from "../../src/core/events/sse-streams.ts"
import { Metrics } from "../../src/core/observability/metrics.ts"
import { makeInProcessState, SharedState } from "../../src/core/redis/shared-state.ts"
import { Settings } from "../../src/core/settings/service.ts"

/** The bus over a fresh configuration and registry; `redis` only flips the relay on (no Redis is used). */
const busLayer = (mode: "redis" | "in-process", env: Record<string, string> = {}) =>
  EventsLive.pipe(
    Layer.provideMerge(
      Layer.mergeAll(
        AppConfig.layerFrom({ EVENT_REPLAY_BUFFER: "5", ...env }),
        Metrics.layer,
        Layer.succeed(SharedState, { ...makeInProcessState(), mode }),
        Permissions.layer
      )
    )
  )

const topics = [
  { name: "t", permission: "VIEW_DASHBOARD", description: "test topic t" },
  { name: "u", permission: "VIEW_DASHBOARD", description: "test topic u" }
]

/** A bus with the test topics declared, in the test's scope. */
const makeBus = (mode: "redis" | "in-process" = "in-process", env: Record<string, string> = {}) =>
  Effect.gen(function* () {
    const context = yield* Layer.build(busLayer(mode, env))
    const bus = Context.get(context, EventBus)
    yield* bus.declare("test", topics)
    return {
      bus,
      relay: Context.get(context, EventRelay),
      streams: Context.get(context, SseStreams),
      metrics: Context.get(context, Metrics)
    }
  })

const metric = (metrics: Metrics["Service"], name: string, labels: Record<string, string> = {}) =>
  Effect.promise(async () => {
    const found = metrics.registry.getSingleMetric(name)
    const data = await found?.get()
    return data?.values.find((v) => Object.entries(labels).every(([k, value]) => v.labels[k] === value))?.value
  })

/**
 * A settings service whose `events.max_streams` is `bound.value` (decoded by the setting's own
 * schema, as the real service does), changed by the test between admissions; only `get` is used.
 */
const settingsWithBound = (bound: { value: unknown }) => {
  const unused = Effect.die("unused")
  return Settings.of({
    get: (spec) =>
      Effect.sync(() =>
        spec.key === maxStreams.key ? Schema.decodeUnknownSync(spec.schema)(bound.value) : spec.default
      ),
    declare: () => unused,
    lookup: () => unused,
    list: unused,
    history: () => unused,
    set: () => unused,
    restore: () => unused,
    changes: Stream.empty,
    reload: unused,
    follow: () => unused
  })
}

const idsOf = (events: ReadonlyArray<BusEvent> | "reset") => (events === "reset" ? "reset" : events.map((e) => e.id))

describe("event bus", () => {
  it.effect("delivers a published event live, stamped with the clock and the next id", () =>
    Effect.gen(function* () {
      const { bus } = yield* makeBus()
      const subscription = yield* bus.subscribe(["t"])
      assert.deepStrictEqual(subscription.missed, [])
      const first = yield* Effect.forkChild(Stream.runHead(subscription.live))
      yield* TestClock.adjust("1500 millis")
      const event = yield* bus.publish("t", "created", { n: 1 })
      assert.strictEqual(event.at, 1500)
      assert.strictEqual(event.id, subscription.cursor.replace(/-0$/, "-1"))
      assert.deepStrictEqual(yield* Fiber.join(first), Option.some(event))
    })
  )

  it.effect("resumes after an id with exactly the missed events of the subscribed topics, then live ones", () =>
    Effect.gen(function* () {
      const { bus } = yield* makeBus()
      const a = yield* bus.publish("t", "x", "a")
      yield* bus.publish("u", "x", "b")
      const c = yield* bus.publish("t", "x", "c")
      const subscription = yield* bus.subscribe(["t"], a.id)
      assert.deepStrictEqual(idsOf(subscription.missed), [c.id])
      const next = yield* Effect.forkChild(Stream.runCollect(Stream.take(subscription.live, 1)))
      yield* bus.publish("u", "x", "d")
      const e = yield* bus.publish("t", "x", "e")
      assert.deepStrictEqual(
        (yield* Fiber.join(next)).map((x) => x.id),
        [e.id]
      )
    })
  )

  it.effect("answers reset for an id older than the buffer, unknown, or malformed; none for the newest", () =>
    Effect.gen(function* () {
      const { bus } = yield* makeBus() // EVENT_REPLAY_BUFFER=5
      const published: Array<BusEvent> = []
      for (let i = 0; i < 7; i++) published.push(yield* bus.publish("t", "x", i))
      const at = (i: number) => published[i]!.id
      assert.strictEqual((yield* bus.subscribe(["t"], at(0))).missed, "reset")
      assert.deepStrictEqual(idsOf((yield* bus.subscribe(["t"], at(1))).missed), [2, 3, 4, 5, 6].map(at))
      assert.deepStrictEqual((yield* bus.subscribe(["t"], at(6))).missed, [])
      assert.strictEqual((yield* bus.subscribe(["t"], "0123456789ab-3")).missed, "reset")
      assert.strictEqual((yield* bus.subscribe(["t"], "garbage")).missed, "reset")
      assert.strictEqual((yield* bus.subscribe(["t"])).cursor, at(6))
    })
  )

  it.effect("cuts off a reader that falls behind, after what it holds, without holding up others", () =>
    Effect.gen(function* () {
      const { bus, metrics } = yield* makeBus()
      const slow = yield* bus.subscribe(["t"])
      const other = yield* bus.subscribe(["u"])
      for (let i = 0; i <= LIVE_CAPACITY; i++) yield* bus.publish("t", "x", i)
      const u = yield* bus.publish("u", "x", "still here")
      const held = yield* Stream.runCollect(slow.live)
      assert.strictEqual(held.length, LIVE_CAPACITY)
      assert.strictEqual(held[0]?.data, 0)
      assert.deepStrictEqual(yield* Stream.runHead(other.live), Option.some(u))
      assert.strictEqual(yield* metric(metrics, "breakwater_event_subscribers_cut_total"), 1)
    })
  )

  it.effect("refuses an undeclared topic, a malformed or reserved type and data JSON cannot carry, as defects", () =>
    Effect.gen(function* () {
      const { bus } = yield* makeBus()
      const before = (yield* bus.subscribe([])).cursor
      for (const attempt of [
        bus.publish("nope", "x", 1),
        bus.publish("t", "Bad Type", 1),
        bus.publish("t", "reset", 1),
        bus.publish("t", "x", { n: 1n })
      ]) {
        const exit = yield* Effect.exit(attempt)
        assert.isTrue(Exit.isFailure(exit) && Cause.hasDies(exit.cause))
      }
      assert.strictEqual((yield* bus.subscribe([])).cursor, before)
    })
  )

  it.effect("refuses a duplicate topic, naming both modules", () =>
    Effect.gen(function* () {
      const { bus } = yield* makeBus()
      const error = yield* Effect.flip(bus.declare("late", [{ ...topics[0]!, description: "again" }]))
      assert.strictEqual(error.message, "topic t is declared by both test and late")
      assert.deepStrictEqual(
        (yield* bus.topics).map((t) => [t.name, t.module]),
        [
          ["t", "test"],
          ["u", "test"]
        ]
      )
    })
  )
})

describe("relay between replicas", () => {
  /** Moves every message waiting in `from`'s outbound queue to `to`, as the relay fiber does. */
  const carry = (from: EventRelay["Service"], to: EventRelay["Service"], drop: (i: number) => boolean = () => false) =>
    Effect.gen(function* () {
      const messages = yield* Queue.clear(from.outbound)
      for (const [i, message] of messages.entries()) if (!drop(i)) yield* to.receive(message)
      return messages.length
    })

  it.effect("delivers replicated events on the other bus under its own ids; keeps the rest home", () =>
    Effect.gen(function* () {
      const a = yield* makeBus("redis")
      const b = yield* makeBus("redis")
      const watching = yield* b.bus.subscribe(["t"])
      const live = yield* Effect.forkChild(Stream.runCollect(Stream.take(watching.live, 2)))
      yield* TestClock.adjust("10 millis")
      const sent = yield* a.bus.publish("t", "x", { n: 1 })
      yield* a.bus.publish("t", "x", "local only", { replicate: false })
      yield* a.bus.publish("t", "x", { n: 2 })
      assert.strictEqual(yield* carry(a.relay, b.relay), 2)
      const got = yield* Fiber.join(live)
      assert.deepStrictEqual(
        got.map((e) => [e.data, e.at]),
        [
          [{ n: 1 }, 10],
          [{ n: 2 }, 10]
        ]
      )
      assert.notStrictEqual(got[0]?.id, sent.id)
      // Redis echoes a publisher's own messages back to it: skipped.
      yield* a.bus.publish("t", "x", "echo")
      const own = yield* Queue.clear(a.relay.outbound)
      const mine = yield* a.bus.subscribe(["t"])
      for (const message of own) yield* a.relay.receive(message)
      assert.strictEqual(
        yield* metric(a.metrics, "breakwater_events_published_total", { origin: "relayed" }),
        undefined
      )
      assert.deepStrictEqual(mine.missed, [])
    })
  )

  it.effect("on a lost message ends every live stream and resets every earlier id", () =>
    Effect.gen(function* () {
      const a = yield* makeBus("redis")
      const b = yield* makeBus("redis")
      yield* a.bus.publish("t", "x", 1)
      yield* carry(a.relay, b.relay)
      const seen = (yield* b.bus.subscribe(["t"])).cursor
      const watching = yield* b.bus.subscribe(["u"])
      yield* a.bus.publish("t", "x", 2)
      yield* a.bus.publish("t", "x", 3)
      yield* carry(a.relay, b.relay, (i) => i === 0)
      // The stream ends (it held nothing of its topic); the client reconnects into a reset.
      assert.deepStrictEqual(yield* Stream.runCollect(watching.live), [])
      assert.strictEqual((yield* b.bus.subscribe(["t"], seen)).missed, "reset")
      assert.strictEqual(yield* metric(b.metrics, "breakwater_event_relay_problems_total", { problem: "gap" }), 1)
      // After the gap, resumption works again from the new epoch.
      const fresh = (yield* b.bus.subscribe(["t"])).cursor
      yield* a.bus.publish("t", "x", 4)
      yield* carry(a.relay, b.relay)
      const resumed = (yield* b.bus.subscribe(["t"], fresh)).missed
      assert.deepStrictEqual(resumed === "reset" ? resumed : resumed.map((e) => e.data), [4])
    })
  )

  it.effect("counts and drops a malformed message, and one on a topic this replica does not know", () =>
    Effect.gen(function* () {
      const b = yield* makeBus("redis")
      yield* b.relay.receive("{not json")
      yield* b.relay.receive(JSON.stringify({ origin: "abc", seq: 1, topic: "t", type: "Bad Type", at: 1 }))
      yield* b.relay.receive(JSON.stringify({ origin: "abc", seq: 2, topic: "unknown", type: "x", at: 1 }))
      assert.strictEqual(yield* metric(b.metrics, "breakwater_event_relay_problems_total", { problem: "malformed" }), 2)
      assert.strictEqual((yield* b.bus.subscribe(["t"])).cursor.endsWith("-0"), true)
    })
  )

  it.effect("queues nothing for other replicas without Redis", () =>
    Effect.gen(function* () {
      const { bus, relay } = yield* makeBus("in-process")
      yield* bus.publish("t", "x", 1)
      assert.isFalse(relay.enabled)
      assert.deepStrictEqual(yield* Queue.clear(relay.outbound), [])
    })
  )
})

describe("server-sent-event streams", () => {
  it.effect("admits streams up to events.max_streams, then refuses with Retry-After; the gauge follows", () =>
    Effect.gen(function* () {
      const { streams, metrics } = yield* makeBus("in-process")
      const bound = { value: 2 }
      const admit = Effect.provideService(streams.admit, Settings, settingsWithBound(bound))
      const gauge = () => metric(metrics, "breakwater_sse_connections")
      yield* admit
      yield* streams.hold
      const closeable = yield* Effect.forkChild(Effect.scoped(Effect.andThen(streams.hold, Effect.never)))
      yield* Effect.yieldNow
      assert.strictEqual(yield* gauge(), 2)
      const refused = yield* Effect.flip(admit)
      assert.instanceOf(refused, TooManyStreams)
      assert.isTrue(refused.retryAfterSeconds >= 5 && refused.retryAfterSeconds <= 15)
      assert.include(refused.message, "events.max_streams allows 2")
      yield* Fiber.interrupt(closeable)
      assert.strictEqual(yield* gauge(), 1)
      yield* admit
    })
  )

  it.effect("reads the bound at each admission: a change applies to the next stream, lowering it closes none", () =>
    Effect.gen(function* () {
      const { streams, metrics } = yield* makeBus("in-process")
      const bound = { value: 3 }
      const admit = Effect.provideService(streams.admit, Settings, settingsWithBound(bound))
      const gauge = () => metric(metrics, "breakwater_sse_connections")
      const openOne = () => Effect.forkChild(Effect.scoped(Effect.andThen(streams.hold, Effect.never)))
      const a = yield* openOne()
      const b = yield* openOne()
      yield* Effect.yieldNow
      yield* admit
      // Lowered below the open streams: both stay counted (nothing closes them), the next is refused.
      bound.value = 1
      const refused = yield* Effect.flip(admit)
      assert.include(refused.message, "events.max_streams allows 1")
      assert.strictEqual(yield* gauge(), 2)
      assert.isUndefined(a.pollUnsafe())
      assert.isUndefined(b.pollUnsafe())
      yield* Fiber.interrupt(a)
      // One left, as many as the bound allows: still refused.
      yield* Effect.flip(admit)
      // Raised: admitted again at once.
      bound.value = 5
      yield* admit
      yield* Fiber.interrupt(b)
      assert.strictEqual(yield* gauge(), 0)
    })
  )

  it.effect("without the settings service (the bus alone) the default bound applies", () =>
    Effect.gen(function* () {
      const { streams } = yield* makeBus("in-process")
      yield* Effect.scoped(
        Effect.gen(function* () {
          for (let i = 0; i < maxStreams.default - 1; i++) yield* streams.hold
          yield* streams.admit
          yield* streams.hold
          const refused = yield* Effect.flip(streams.admit)
          assert.include(refused.message, `allows ${maxStreams.default}`)
        })
      )
    })
  )

  it.effect("ticks every open stream's keep-alive from one timer, every 15 s", () =>
    Effect.gen(function* () {
      const { streams } = yield* makeBus()
      const first = yield* streams.keepAlive
      const second = yield* streams.keepAlive
      const timer = yield* Effect.forkChild(
        keepAliveFiber.run(Effect.void).pipe(Effect.provideService(SseStreams, streams))
      )
      const count = (ticks: Stream.Stream<void>) =>
        Effect.forkChild(Stream.runCount(Stream.interruptWhen(ticks, Effect.sleep("31 seconds"))))
      const a = yield* count(first)
      const b = yield* count(second)
      yield* Effect.yieldNow
      yield* TestClock.adjust("31 seconds")
      // At 0, 15 and 30 seconds.
      assert.strictEqual(yield* Fiber.join(a), 3)
      assert.strictEqual(yield* Fiber.join(b), 3)
      yield* Fiber.interrupt(timer)
    })
  )
})
