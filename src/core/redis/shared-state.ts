/**
 * Fast shared state for other processes: keys to read and channels to watch (the published
 * breaker state, for one). Backed by Redis when configured, by an in-process twin otherwise; both
 * pass one contract test suite. PostgreSQL stays the source of truth: this is a published copy.
 */
import { Context, Effect, Layer, Option, Queue, Schema, Stream } from "effect"
import type { Redis } from "ioredis"
import { RedisConnection } from "./client.ts"

/** The store could not be reached or did not answer in time. */
export class StoreUnavailable extends Schema.TaggedError<StoreUnavailable>()("StoreUnavailable", {
  message: Schema.String
}) {}

export type SharedStateMode = "redis" | "in-process"

export interface SharedStateShape {
  readonly mode: SharedStateMode
  readonly get: (key: string) => Effect.Effect<Option.Option<string>, StoreUnavailable>
  /** Several keys in one round trip (MGET on Redis), in the order asked. */
  readonly getMany: (
    keys: ReadonlyArray<string>
  ) => Effect.Effect<ReadonlyArray<Option.Option<string>>, StoreUnavailable>
  readonly set: (key: string, value: string) => Effect.Effect<void, StoreUnavailable>
  readonly delete: (key: string) => Effect.Effect<void, StoreUnavailable>
  readonly publish: (channel: string, message: string) => Effect.Effect<void, StoreUnavailable>
  /** Sets a key and publishes a message in one round trip (MULTI/EXEC on Redis): the key first. */
  readonly setAndPublish: (
    key: string,
    value: string,
    channel: string,
    message: string
  ) => Effect.Effect<void, StoreUnavailable>
  /**
   * Sets a key only if it still holds `expected` (none: only if absent), atomically; false when it
   * changed meanwhile. For repairs that must not overwrite a newer value written by someone else.
   */
  readonly setIfUnchanged: (
    key: string,
    expected: Option.Option<string>,
    value: string
  ) => Effect.Effect<boolean, StoreUnavailable>
  /**
   * Adds to counters in one round trip (INCRBY on Redis) and answers their totals, in the order
   * given; a missing or expired counter starts at 0, and adding 0 reads it. Each counter expires
   * `ttlSeconds` after this call. Counters are read through this method only (the shared rate limits).
   */
  readonly incrementMany: (
    increments: ReadonlyArray<{ readonly key: string; readonly by: number }>,
    ttlSeconds: number
  ) => Effect.Effect<ReadonlyArray<number>, StoreUnavailable>
  /** Messages on a channel from the moment the stream starts; it survives reconnects. */
  readonly subscribe: (channel: string) => Stream.Stream<string>
  /** Round trip to the store, in milliseconds. */
  readonly ping: Effect.Effect<number, StoreUnavailable>
}

export class SharedState extends Context.Service<SharedState, SharedStateShape>()("breakwater/SharedState") {
  static readonly layer = Layer.effect(
    SharedState,
    Effect.gen(function* () {
      const connection = yield* RedisConnection
      return Option.isSome(connection.client)
        ? yield* makeRedisState(connection.client.value, connection.prefix)
        : makeInProcessState()
    })
  )
}

/** The twin: a map and in-memory channels, for a single process without Redis. */
export const makeInProcessState = (): SharedStateShape => {
  const values = new Map<string, string>()
  const counters = new Map<string, { value: number; expiresAt: number }>()
  const listeners = new Map<string, Set<(message: string) => void>>()
  return {
    mode: "in-process",
    get: (key) => Effect.sync(() => Option.fromNullishOr(values.get(key))),
    getMany: (keys) => Effect.sync(() => keys.map((key) => Option.fromNullishOr(values.get(key)))),
    set: (key, value) => Effect.sync(() => void values.set(key, value)),
    delete: (key) => Effect.sync(() => void values.delete(key)),
    publish: (channel, message) =>
      Effect.sync(() => {
        for (const listener of listeners.get(channel) ?? []) listener(message)
      }),
    setAndPublish: (key, value, channel, message) =>
      Effect.sync(() => {
        values.set(key, value)
        for (const listener of listeners.get(channel) ?? []) listener(message)
      }),
    setIfUnchanged: (key, expected, value) =>
      Effect.sync(() => {
        if (values.get(key) !== Option.getOrUndefined(expected)) return false
        values.set(key, value)
        return true
      }),
    incrementMany: (increments, ttlSeconds) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => {
          const now = clock.currentTimeMillisUnsafe()
          // Expired counters go on every call, so the map holds only live ones.
          for (const [key, counter] of counters) if (counter.expiresAt <= now) counters.delete(key)
          return increments.map(({ key, by }) => {
            const value = (counters.get(key)?.value ?? 0) + by
            counters.set(key, { value, expiresAt: now + ttlSeconds * 1000 })
            return value
          })
        })
      ),
    subscribe: (channel) =>
      Stream.callback<string>((queue) =>
        Effect.acquireRelease(
          Effect.sync(() => {
            const listener = (message: string) => void Queue.offerUnsafe(queue, message)
            const set = listeners.get(channel) ?? new Set()
            set.add(listener)
            listeners.set(channel, set)
            return listener
          }),
          (listener) => Effect.sync(() => listeners.get(channel)?.delete(listener))
        )
      ),
    ping: Effect.succeed(0)
  }
}

/** KEYS[1]; ARGV: "1" when a value is expected (else the key must be absent), that value, the new one. */
const SET_IF_UNCHANGED = `local current = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  if current ~= ARGV[2] then return 0 end
elseif current then
  return 0
end
redis.call('SET', KEYS[1], ARGV[3])
return 1`

const unavailable = (what: string) => (cause: unknown) =>
  new StoreUnavailable({ message: `redis ${what} failed: ${cause instanceof Error ? cause.message : String(cause)}` })

/** The Redis implementation; subscriptions share one subscriber connection. */
export const makeRedisState = (client: Redis, prefix: string) =>
  Effect.gen(function* () {
    const log = Effect.runForkWith(yield* Effect.context<never>())
    const warn = (what: string) => (error: unknown) =>
      void log(Effect.logWarning(`redis ${what} failed: ${error instanceof Error ? error.message : String(error)}`))
    const subscriber = yield* Effect.acquireRelease(
      Effect.sync(() => {
        // Subscriptions are queued while disconnected and replayed on reconnect. No ready check: it
        // sends INFO after connecting, and a SUBSCRIBE sent in that window put the connection in
        // subscriber mode first, so the INFO failed, the connection dropped and came back with no
        // subscription at all (seen: a subscribe right after start was lost for good).
        const sub = client.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, enableReadyCheck: false })
        // Connection errors are logged by the main connection; without a listener ioredis would throw.
        sub.on("error", () => undefined)
        return sub
      }),
      (sub) => Effect.sync(() => sub.disconnect())
    )
    const listeners = new Map<string, Set<(message: string) => void>>()
    subscriber.on("message", (channel: string, message: string) => {
      for (const listener of listeners.get(channel) ?? []) listener(message)
    })
    const run = <A>(what: string, f: () => Promise<A>) =>
      Effect.tryPromise({ try: f, catch: unavailable(what) }).pipe(Effect.withSpan(`redis.${what}`))
    const state: SharedStateShape = {
      mode: "redis",
      get: (key) => run("get", () => client.get(prefix + key)).pipe(Effect.map(Option.fromNullishOr)),
      getMany: (keys) =>
        keys.length === 0
          ? Effect.succeed([])
          : run("mget", () => client.mget(keys.map((key) => prefix + key))).pipe(
              Effect.map((values) => values.map(Option.fromNullishOr))
            ),
      set: (key, value) => run("set", () => client.set(prefix + key, value)).pipe(Effect.asVoid),
      delete: (key) => run("del", () => client.del(prefix + key)).pipe(Effect.asVoid),
      publish: (channel, message) =>
        run("publish", () => client.publish(prefix + channel, message)).pipe(Effect.asVoid),
      setAndPublish: (key, value, channel, message) =>
        run("set+publish", async () => {
          const results = await client
            .multi()
            .set(prefix + key, value)
            .publish(prefix + channel, message)
            .exec()
          const failed = results?.find(([error]) => error !== null)?.[0]
          if (results === null || failed !== undefined) throw failed ?? new Error("transaction discarded")
        }),
      setIfUnchanged: (key, expected, value) =>
        run("set-if-unchanged", () =>
          client.eval(
            SET_IF_UNCHANGED,
            1,
            prefix + key,
            Option.isSome(expected) ? "1" : "0",
            Option.getOrElse(expected, () => ""),
            value
          )
        ).pipe(Effect.map((written) => written === 1)),
      incrementMany: (increments, ttlSeconds) =>
        increments.length === 0
          ? Effect.succeed([])
          : run("incrby", async () => {
              const pipeline = client.pipeline()
              for (const { key, by } of increments) pipeline.incrby(prefix + key, by).expire(prefix + key, ttlSeconds)
              const results = await pipeline.exec()
              if (results === null) throw new Error("pipeline discarded")
              const failed = results.find(([error]) => error !== null)?.[0]
              if (failed !== undefined && failed !== null) throw failed
              // Each counter answers INCRBY then EXPIRE: the totals are every other reply.
              return increments.map((_, i) => Number(results[2 * i]?.[1]))
            }),
      subscribe: (channel) =>
        Stream.callback<string>((queue) =>
          Effect.acquireRelease(
            Effect.sync(() => {
              const full = prefix + channel
              const listener = (message: string) => void Queue.offerUnsafe(queue, message)
              const set = listeners.get(full) ?? new Set()
              set.add(listener)
              listeners.set(full, set)
              // ioredis queues SUBSCRIBE until connected and re-subscribes after a reconnect.
              if (set.size === 1) subscriber.subscribe(full).catch(warn(`subscribe ${full}`))
              return { full, listener }
            }),
            ({ full, listener }) =>
              Effect.sync(() => {
                const set = listeners.get(full)
                set?.delete(listener)
                if (set !== undefined && set.size === 0) {
                  listeners.delete(full)
                  subscriber.unsubscribe(full).catch(warn(`unsubscribe ${full}`))
                }
              })
          )
        ),
      ping: Effect.gen(function* () {
        const start = performance.now()
        yield* run("ping", () => client.ping())
        return performance.now() - start
      })
    }
    return state
  })
