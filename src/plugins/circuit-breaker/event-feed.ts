/**
 * One broadcast of breaker changes to every server-sent-events client of this process. Each
 * change is encoded to its SSE frame once, by one fiber, and the same bytes go to all subscribers:
 * fanning a trip out to a thousand streams costs a thousand socket writes, not a thousand JSON
 * encodings and a thousand subscriptions to the breaker. The same fiber sends the keep-alive
 * comment, so a thousand idle streams share one timer.
 */
import { Context, Duration, Effect, Layer, PubSub, type Scope, Stream } from "effect"
import { CircuitBreaker } from "../../core/contracts/circuit-breaker/service.ts"
import type { FiberSpec } from "../../core/supervisor.ts"
import { changeFrame, KEEP_ALIVE_FRAME } from "./sse.ts"

/** Frames a subscriber may fall behind before it is cut off (its client reconnects and resyncs). */
export const FEED_CAPACITY = 1024
export const KEEP_ALIVE_INTERVAL = Duration.seconds(15)

/** A frame and its place in the feed, so a subscriber notices frames it missed. */
interface Frame {
  readonly seq: number
  readonly bytes: Uint8Array
}

export interface BreakerEventFeedShape {
  /** Sends encoded bytes to every current subscriber (called by the feed fiber only). */
  readonly publish: (bytes: Uint8Array) => Effect.Effect<void>
  /**
   * Subscribes now (call it before reading the snapshot, so no change falls between the two).
   * The stream yields every frame published from then on; it ends, rather than skipping frames,
   * when its reader fell more than {@link FEED_CAPACITY} frames behind.
   */
  readonly subscribe: Effect.Effect<Stream.Stream<Uint8Array>, never, Scope.Scope>
}

export class BreakerEventFeed extends Context.Service<BreakerEventFeed, BreakerEventFeedShape>()(
  "breakwater/BreakerEventFeed"
) {
  static readonly layer = Layer.effect(
    BreakerEventFeed,
    Effect.gen(function* () {
      // Sliding: a stuck reader loses its oldest frames (and is then cut off) instead of
      // holding up the publisher and every other reader.
      const pubsub = yield* Effect.acquireRelease(PubSub.sliding<Frame>(FEED_CAPACITY), PubSub.shutdown)
      let next = 0
      return BreakerEventFeed.of({
        publish: (bytes) => Effect.asVoid(Effect.suspend(() => PubSub.publish(pubsub, { seq: next++, bytes }))),
        subscribe: Effect.map(PubSub.subscribe(pubsub), (subscription) => {
          let expected: number | undefined
          return Stream.fromSubscription(subscription).pipe(
            Stream.takeWhile((frame) => {
              const inOrder = expected === undefined || frame.seq === expected
              expected = frame.seq + 1
              return inOrder
            }),
            Stream.map((frame) => frame.bytes)
          )
        })
      })
    })
  )
}

/** The supervised fiber that feeds the broadcast: breaker changes and the keep-alive comment. */
export const eventFeedFiber: FiberSpec<CircuitBreaker | BreakerEventFeed> = {
  name: "breaker.event-feed",
  run: (heartbeat) =>
    Effect.gen(function* () {
      const breaker = yield* CircuitBreaker
      const feed = yield* BreakerEventFeed
      const frames = Stream.merge(
        Stream.map(breaker.changes, changeFrame),
        Stream.map(Stream.tick(KEEP_ALIVE_INTERVAL), () => KEEP_ALIVE_FRAME)
      )
      yield* Stream.runForEach(frames, (bytes) => Effect.andThen(feed.publish(bytes), heartbeat))
    })
}
