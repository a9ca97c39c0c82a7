/**
 * One broadcast of the bus's `breaker` events to every `/api/v1/breaker/stream` client of this
 * process. One fiber subscribes to the bus once, encodes each change to its SSE frame and adds the
 * shared keep-alive; every client subscribes to this feed. Fanning a trip out to a thousand
 * streams then costs a thousand socket writes, not a thousand bus subscriptions each merging its
 * own timer (measured: that added ~30 ms to the p99 of delivering a trip to 1,000 streams).
 */
import { Context, Effect, Layer, PubSub, type Scope, Stream } from "effect"
import { EventBus } from "../../core/contracts/event-bus.ts"
import { SseStreams } from "../../core/events/sse-streams.ts"
import type { FiberSpec } from "../../core/supervisor.ts"
import { BREAKER_TOPIC } from "./publisher.ts"
import { changeFrame, KEEP_ALIVE_FRAME } from "./sse.ts"

/** Frames a subscriber may fall behind before it is cut off (its client reconnects and resyncs). */
export const FEED_CAPACITY = 1024

/** A frame and its place in the feed, so a subscriber notices frames it missed. */
interface Frame {
  readonly seq: number
  readonly bytes: Uint8Array
}

export interface BreakerEventFeedShape {
  /** Sends encoded bytes to every current subscriber (the feed fiber only). */
  readonly publish: (bytes: Uint8Array) => Effect.Effect<void>
  /**
   * Marks a gap: the feed's own bus subscription ended (it fell behind, or the bus lost events),
   * so every current subscriber ends and its client reconnects to a fresh snapshot.
   */
  readonly gap: Effect.Effect<void>
  /**
   * Subscribes now (call it before reading the snapshot, so no change falls between the two).
   * The stream yields every frame published from then on; it ends, rather than skipping frames,
   * when its reader fell more than {@link FEED_CAPACITY} frames behind or the feed had a gap.
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
        gap: Effect.sync(() => {
          next += 1
        }),
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

/** Feeds the broadcast from the bus, with the process's shared keep-alive tick. */
export const eventFeedFiber: FiberSpec<EventBus | SseStreams | BreakerEventFeed> = {
  name: "breaker.event-feed",
  replicas: "each",
  run: (heartbeat) =>
    Effect.scoped(
      Effect.gen(function* () {
        const feed = yield* BreakerEventFeed
        const subscription = yield* (yield* EventBus).subscribe([BREAKER_TOPIC])
        const ticks = yield* (yield* SseStreams).keepAlive
        const frames = Stream.merge(
          Stream.map(subscription.live, changeFrame),
          Stream.map(ticks, () => KEEP_ALIVE_FRAME),
          { haltStrategy: "left" }
        )
        yield* Stream.runForEach(frames, (bytes) => Effect.andThen(feed.publish(bytes), heartbeat))
      })
    ).pipe(
      // The bus ended the subscription: the streams that relied on it must resync.
      Effect.ensuring(Effect.flatMap(BreakerEventFeed, (feed) => feed.gap))
    )
}
