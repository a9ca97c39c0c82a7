/**
 * What every server-sent-events answer of the process shares: a bound on how many are open at
 * once (the runtime setting `events.max_streams`; beyond it 503 with `Retry-After`, counted by the
 * gauge `breakwater_sse_connections`) and one keep-alive timer, ticked by one supervised fiber,
 * that every open stream listens to, so a thousand idle streams cost one timer, not a thousand.
 *
 * The bound is checked when the request arrives ({@link SseStreamsShape.admit}, which can still
 * answer 503) and counted while the body streams ({@link SseStreamsShape.hold}, released when the
 * stream ends, whatever ends it). An answer whose body never starts (its client left first) was
 * never counted, so nothing leaks; the price is that a burst of connections arriving in the same
 * instant may overshoot the bound by the few admitted together. The bound is read (from memory)
 * at each admission, so a change applies to the next stream opened; lowering it below the streams
 * already open ends none of them, it only refuses new ones until enough have closed.
 */
import { Context, Duration, Effect, Layer, Option, PubSub, Random, Schema, type Scope, Stream } from "effect"
import { answer, httpAnswer } from "../errors/http-answer.ts"
import { Metrics } from "../observability/metrics.ts"
import { Settings } from "../settings/service.ts"
import { defineSetting } from "../settings/spec.ts"
import { periodicFiber } from "../supervisor.ts"

/** Server-sent-event streams one process keeps open at most. */
export const maxStreams = defineSetting({
  key: "events.max_streams",
  schema: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 100_000 })),
  default: 1000,
  description:
    "Server-sent-event streams (the event stream and the breaker's stream) one process keeps open at most; beyond it a new stream is refused with 503 and Retry-After. A change applies to the next stream opened; lowering it closes no open stream.",
  permission: "MANAGE_SYSTEM_CONFIG",
  unit: "streams"
})

/**
 * The bound in effect, from the settings service's memory (no database read). The service is
 * built after this layer (it publishes on the bus), so it is taken from the caller's context —
 * every route has it; without it (a test of the bus alone) the default applies.
 */
const currentMax: Effect.Effect<number> = Effect.flatMap(Effect.serviceOption(Settings), (settings) =>
  Option.isSome(settings) ? settings.value.get(maxStreams) : Effect.succeed(maxStreams.default)
)

export const KEEP_ALIVE_INTERVAL = Duration.seconds(15)

/** 503 `too_many_streams`: the process serves as many event streams as it may; retry later. */
export class TooManyStreams extends Schema.TaggedError<TooManyStreams>()("TooManyStreams", {
  message: Schema.String,
  retryAfterSeconds: Schema.Number
}) {
  get [httpAnswer]() {
    return answer(503, "too_many_streams", "Too many streams")
  }
}

export interface SseStreamsShape {
  /** Fails when as many streams are open as the setting `events.max_streams` allows (read now). */
  readonly admit: Effect.Effect<void, TooManyStreams>
  /** Counts one open stream until the scope (the body stream's) closes. */
  readonly hold: Effect.Effect<void, never, Scope.Scope>
  readonly open: Effect.Effect<number>
  /** A tick every {@link KEEP_ALIVE_INTERVAL}, for as long as the scope lasts. */
  readonly keepAlive: Effect.Effect<Stream.Stream<void>, never, Scope.Scope>
  /** Sends the tick (the keep-alive fiber only). */
  readonly tick: Effect.Effect<void>
}

export class SseStreams extends Context.Service<SseStreams, SseStreamsShape>()("breakwater/SseStreams") {
  static readonly layer = Layer.effect(
    SseStreams,
    Effect.gen(function* () {
      const gauge = (yield* Metrics).gauge({
        name: "breakwater_sse_connections",
        help: "Server-sent-event streams this process has open."
      })
      let open = 0
      gauge.set(open)
      // Sliding and one deep: a reader that missed a tick needs only the next one.
      const ticks = yield* Effect.acquireRelease(PubSub.sliding<void>(1), PubSub.shutdown)
      return SseStreams.of({
        admit: Effect.flatMap(currentMax, (max) =>
          open < max
            ? Effect.void
            : // Spread the retries, so the refused do not come back all in the same second.
              Effect.flatMap(Random.nextIntBetween(5, 15), (retryAfterSeconds) =>
                Effect.fail(
                  new TooManyStreams({
                    message: `this process already serves ${open} event streams, and the setting ${maxStreams.key} allows ${max}: try again later`,
                    retryAfterSeconds
                  })
                )
              )
        ),
        hold: Effect.acquireRelease(
          Effect.sync(() => gauge.set(++open)),
          () => Effect.sync(() => gauge.set(--open))
        ),
        open: Effect.sync(() => open),
        keepAlive: Effect.map(PubSub.subscribe(ticks), Stream.fromSubscription),
        tick: Effect.asVoid(PubSub.publish(ticks, undefined))
      })
    })
  )
}

/** The one timer behind every stream's keep-alive comment. */
export const keepAliveFiber = periodicFiber(
  "events.keep-alive",
  KEEP_ALIVE_INTERVAL,
  Effect.flatMap(SseStreams, (streams) => streams.tick)
)
