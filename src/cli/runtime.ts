/**
 * What CLI commands run against when no server holds the store: the application's services,
 * logging as configured. Commands print their results to stdout; logs go to stdout as JSON too,
 * so scripts should read the last line.
 */
import { Effect, Layer, Option } from "effect"
import { servicesLayer } from "../app.ts"
import { ModuleContexts } from "../core/application.ts"
import { AppConfig } from "../core/config.ts"
import type { Module } from "../core/module.ts"
import { RedisConnection } from "../core/redis/client.ts"

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
)

/**
 * The application's services as the server composes them (core and every module), with only the
 * essential fibers (the audit writer), and Redis connected (when `REDIS_URL` is set) before the
 * modules start, so a trip from the shell is published to the execution services like one from
 * the console.
 */
export const cliServices = (modules: ReadonlyArray<Module>) =>
  servicesLayer(modules, AppConfig.layer, { fibers: "essential", serving: false, beforeModules: CliRedis })

/** A module's whole context (its private services too), for its commands. */
export const moduleContext = (modules: ReadonlyArray<Module>, module: string) =>
  Layer.effectContext(Effect.map(ModuleContexts, (contexts) => contexts.of(module))).pipe(
    Layer.provide(cliServices(modules))
  )
