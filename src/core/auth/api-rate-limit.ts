/**
 * The per-API-key request limit (issue 9): `API_RATE_LIMIT_PER_MINUTE` requests per key over a
 * sliding minute, so one runaway client cannot starve the breaker's other readers. Sessions (the
 * console) are not limited.
 *
 * Each process decides from memory ({@link ApiRateLimiterShape.take}: a map lookup and some
 * arithmetic, no Effect), because the HTTP fast lane answers breaker polls synchronously at tens of
 * thousands a second and cannot wait for a store; `effect/persistence`'s RateLimiter asks its store
 * on every request. The sharing is a supervised fiber's ({@link apiRateLimitFiber}): every second it
 * adds this process' new requests to per-key, per-minute counters in {@link SharedState} (Redis
 * when configured) and reads back every replica's totals, so all replicas share one budget per key,
 * each seeing the others' requests within about a second. When Redis fails, each process goes on
 * with what it knows (the totals last read plus its own requests since), logs the outage once, and
 * hands over the counts it held back once Redis answers again: a Redis fault never blocks a request.
 */
import { Clock, Context, Effect, Layer, Schedule } from "effect"
import { AppConfig } from "../config.ts"
import { Metrics } from "../observability/metrics.ts"
import { SharedState } from "../redis/shared-state.ts"
import type { FiberSpec } from "../supervisor.ts"
import { type Drained, makeSlidingWindow, WINDOW_MS } from "./sliding-window.ts"

/** How often counts are shared: how far behind the other replicas' requests a process may be. */
export const SYNC_INTERVAL_MS = 1000

/** A shared counter lives for its own window and the next (read as "last minute"), with a margin. */
const COUNTER_TTL_SECONDS = (3 * WINDOW_MS) / 1000

/** The shared counter of `keyId`'s requests in minute `window` (under the installation's prefix). */
export const counterKey = (keyId: string, window: number) => `api_rate:${keyId}:${window}`

export interface ApiRateLimiterShape {
  /** Requests one key may make per sliding minute; 0: no limit. */
  readonly limitPerMinute: number
  /** The message of the 429 answer, the same on the fast lane and the normal path. */
  readonly message: string
  /**
   * Counts a request of API key `keyId` at `now` (ms since the epoch) and answers `undefined`; over
   * the limit it counts nothing and answers the seconds to wait (for `Retry-After`). Synchronous,
   * allocation-free for a known key: the fast lane calls it.
   */
  readonly take: (keyId: string, now: number) => number | undefined
  /** Shares this process' counts and reads every replica's: the fiber's step. Never fails. */
  readonly sync: Effect.Effect<void>
  /** Keys with counts in this process' memory. */
  readonly trackedKeys: () => number
}

export class ApiRateLimiter extends Context.Service<ApiRateLimiter, ApiRateLimiterShape>()(
  "breakwater/ApiRateLimiter"
) {
  static readonly layer = Layer.effect(
    ApiRateLimiter,
    Effect.gen(function* () {
      const config = yield* AppConfig
      const store = yield* SharedState
      const metrics = yield* Metrics
      const limit = config.apiRateLimitPerMinute
      // No per-key label: keys are unbounded over time; the request log line names the route and status.
      const refused = metrics.counter({
        name: "breakwater_api_rate_limited_total",
        help: "API requests refused with 429 because their API key was over API_RATE_LIMIT_PER_MINUTE."
      })
      const counts = makeSlidingWindow(limit)
      let storeDown = false

      const take = (keyId: string, now: number) => {
        const wait = counts.take(keyId, now)
        if (wait !== undefined) refused.inc()
        return wait
      }

      const shareFailed = (drained: ReadonlyArray<Drained>, message: string) =>
        Effect.suspend(() => {
          for (const d of drained) counts.restore(d)
          if (storeDown) return Effect.void
          storeDown = true
          return Effect.logWarning(
            `API rate limits cannot be shared (${message}): each process limits keys from its own counts until the store answers`
          )
        })

      const settled = (drained: ReadonlyArray<Drained>, totals: ReadonlyArray<number>) =>
        Effect.suspend(() => {
          for (const [i, d] of drained.entries()) counts.settle(d, totals[2 * i] ?? 0, totals[2 * i + 1] ?? 0)
          if (!storeDown) return Effect.void
          storeDown = false
          return Effect.logInfo("API rate limits are shared again")
        })

      const sync = Effect.fn("ApiRateLimiter.sync")(function* () {
        const drained = counts.drain(yield* Clock.currentTimeMillis)
        if (drained.length === 0) return
        const increments = drained.flatMap((d) => [
          { key: counterKey(d.key, d.window), by: d.current },
          { key: counterKey(d.key, d.window - 1), by: d.previous }
        ])
        yield* store.incrementMany(increments, COUNTER_TTL_SECONDS).pipe(
          Effect.matchEffect({
            onFailure: (error) => shareFailed(drained, error.message),
            onSuccess: (totals) => settled(drained, totals)
          })
        )
      })

      return ApiRateLimiter.of({
        limitPerMinute: limit,
        message: `this API key made more than ${limit} requests in the last minute: try again after the seconds in Retry-After`,
        take,
        sync: sync(),
        trackedKeys: counts.size
      })
    })
  )
}

/** The supervised fiber that shares the counts every second and forgets idle keys; one per replica. */
export const apiRateLimitFiber: FiberSpec<ApiRateLimiter> = {
  name: "api.rate-limit",
  replicas: "each",
  run: (heartbeat) =>
    Effect.gen(function* () {
      const limiter = yield* ApiRateLimiter
      yield* limiter.sync.pipe(Effect.andThen(heartbeat), Effect.repeat(Schedule.spaced(SYNC_INTERVAL_MS)))
    })
}
