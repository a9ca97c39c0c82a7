/**
 * The Redis connection, when `REDIS_URL` is set. It fails fast: no offline queue (a command while
 * disconnected fails at once), a bounded command timeout and few retries, and it reconnects in
 * the background every second at most, so the process notices Redis' return within seconds.
 */
import { Context, Effect, Layer, Option, Redacted } from "effect"
import type { Redis } from "ioredis"
import { AppConfig } from "../config.ts"

export interface RedisConnectionShape {
  /** `None` when the process runs without Redis (in-process twins). */
  readonly client: Option.Option<Redis>
  /** Prefix for every key and channel of this installation. */
  readonly prefix: string
}

export class RedisConnection extends Context.Service<RedisConnection, RedisConnectionShape>()(
  "breakwater/RedisConnection"
) {
  static readonly layer = Layer.effect(
    RedisConnection,
    Effect.gen(function* () {
      const config = yield* AppConfig
      if (Option.isNone(config.redisUrl)) return { client: Option.none(), prefix: config.redisKeyPrefix }
      const url = Redacted.value(config.redisUrl.value)
      // Connection events arrive outside any fiber; log them with this layer's logger.
      const log = Effect.runForkWith(yield* Effect.context<never>())
      // ioredis is loaded only when Redis is configured.
      const { Redis } = yield* Effect.promise(() => import("ioredis"))
      const client = yield* Effect.acquireRelease(
        Effect.sync(() => connect(url, log, Redis)),
        (client) => Effect.promise(() => client.quit().catch(() => client.disconnect()))
      )
      return { client: Option.some(client), prefix: config.redisKeyPrefix }
    })
  )
}

/** A fail-fast client; errors are logged once per outage instead of once per retry. */
export const connect = (
  url: string,
  log: (effect: Effect.Effect<void>) => unknown,
  RedisClient: typeof Redis
): Redis => {
  const client = new RedisClient(url, {
    enableOfflineQueue: false,
    commandTimeout: 1000,
    connectTimeout: 2000,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt) => Math.min(attempt * 200, 1000),
    lazyConnect: false
  })
  let down = false
  client.on("error", (error: Error) => {
    if (down) return
    down = true
    log(Effect.logWarning(`redis connection error: ${error.message}`))
  })
  client.on("ready", () => {
    if (!down) return
    down = false
    log(Effect.logInfo("redis connection restored"))
  })
  return client
}
