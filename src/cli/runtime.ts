/**
 * What CLI commands run against: the configured (and migrated) database and the configuration,
 * logging as configured. Commands print their results to stdout; logs go to stdout as JSON too,
 * so scripts should read the last line.
 */
import { Effect, Layer, Option } from "effect"
import { Audit } from "../core/audit/audit.ts"
import { CircuitBreakerLive } from "../core/breaker/live.ts"
import { AppConfig } from "../core/config.ts"
import { DatabaseLive } from "../core/db/client.ts"
import { loggingFromConfig } from "../core/observability/logging.ts"
import { Metrics } from "../core/observability/metrics.ts"
import { RedisConnection } from "../core/redis/client.ts"
import { SharedState } from "../core/redis/shared-state.ts"
import { Supervisor } from "../core/supervisor.ts"

export const CliDatabase = DatabaseLive.pipe(Layer.provide(loggingFromConfig), Layer.provideMerge(AppConfig.layer))

/** The database plus the audit writer, for commands that change something (and so audit it). */
export const CliAudited = Audit.layer.pipe(
  Layer.provideMerge(Supervisor.layer),
  Layer.provideMerge(Metrics.layer),
  Layer.provideMerge(CliDatabase)
)

/** How long a command waits for Redis to connect before it goes on without it. */
const REDIS_CONNECT_WAIT = "3 seconds"

/**
 * The Redis connection, connected: the client does not queue commands while it connects, and a
 * short-lived command would otherwise find Redis "down" in its first milliseconds (and refuse a
 * reset). Redis that does not answer in time is left to the services' own fail-fast handling.
 */
const CliRedis = Layer.effectDiscard(
  Effect.gen(function* () {
    const { client } = yield* RedisConnection
    if (Option.isNone(client) || client.value.status === "ready") return
    const redis = client.value
    yield* Effect.callback<void>((resume) => {
      const ready = () => resume(Effect.void)
      redis.once("ready", ready)
      return Effect.sync(() => void redis.off("ready", ready))
    }).pipe(
      Effect.timeoutOrElse({
        duration: REDIS_CONNECT_WAIT,
        orElse: () => Effect.logWarning(`Redis did not connect within ${REDIS_CONNECT_WAIT}; going on without it`)
      })
    )
  })
).pipe(Layer.provideMerge(RedisConnection.layer))

/**
 * The circuit breaker on the database plus Redis (when `REDIS_URL` is set), so a trip from the
 * shell is published to the execution services like one from the console.
 */
export const CliBreaker = CircuitBreakerLive.pipe(
  Layer.provide(SharedState.layer.pipe(Layer.provideMerge(CliRedis))),
  Layer.provideMerge(CliAudited)
)
