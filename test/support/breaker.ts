/**
 * The circuit breaker service on real PostgreSQL and Redis, without the HTTP server: the layers
 * it needs (configuration from a test environment, database, audit, shared state, supervisor).
 */
import { Effect, Layer } from "effect"
import { Audit } from "../../src/core/audit/audit.ts"
import type { Actor } from "../../src/core/audit/entry.ts"
import { makeCircuitBreakerLayer } from "../../src/core/breaker/live.ts"
import { AppConfig } from "../../src/core/config.ts"
import { DatabaseLive } from "../../src/core/db/client.ts"
import { loggingFromConfig } from "../../src/core/observability/logging.ts"
import { Metrics } from "../../src/core/observability/metrics.ts"
import { Readiness } from "../../src/core/readiness.ts"
import { RedisConnection } from "../../src/core/redis/client.ts"
import { SharedState } from "../../src/core/redis/shared-state.ts"
import { Supervisor } from "../../src/core/supervisor.ts"

/** With `fibers: false` the test drives the verifier itself (TestClock). */
export const breakerLayer = (env: Record<string, string>, fibers = true) =>
  makeCircuitBreakerLayer({ fibers }).pipe(
    Layer.provideMerge(Audit.layer),
    Layer.provideMerge(
      Layer.mergeAll(Supervisor.layer, DatabaseLive, SharedState.layer.pipe(Layer.provideMerge(RedisConnection.layer)))
    ),
    Layer.provideMerge(Layer.mergeAll(Metrics.layer, Readiness.layer)),
    Layer.provide(loggingFromConfig),
    Layer.provideMerge(AppConfig.layerFrom({ LOG_LEVEL: "error", ...env }))
  )

export const alice: Actor = { type: "user", id: "00000000-0000-4000-8000-00000000000a", name: "alice@test.local" }
export const bob: Actor = { type: "user", id: "00000000-0000-4000-8000-00000000000b", name: "bob@test.local" }
export const REASON = "venue latency above the agreed threshold"

/** A metric's current value for one scope, as a scrape would read it (collect functions run). */
export const scopeGauge = (name: string, scope: string) =>
  Effect.gen(function* () {
    const metric = (yield* Metrics).registry.getSingleMetric(name)
    const data = yield* Effect.promise(async () => metric?.get())
    return data?.values.find((v) => v.labels.scope === scope)?.value
  })
