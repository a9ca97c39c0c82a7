/**
 * The circuit breaker service on real PostgreSQL and Redis, without the HTTP server: the same
 * composition as the server and the CLI (core and the circuit-breaker module), so the breaker
 * runs with exactly the services and fibers it has in production.
 */
import { Effect, type Layer } from "effect"
import { servicesLayer } from "../../src/app.ts"
import type { Actor } from "../../src/core/audit/entry.ts"
import { AppConfig } from "../../src/core/config.ts"
import type { CircuitBreaker } from "../../src/core/contracts/circuit-breaker/service.ts"
import { Metrics } from "../../src/core/observability/metrics.ts"
import { circuitBreakerModule } from "../../src/plugins/circuit-breaker/index.ts"

const compose = (env: Record<string, string>, fibers: boolean) =>
  servicesLayer([circuitBreakerModule], AppConfig.layerFrom({ LOG_LEVEL: "error", ...env }), {
    fibers: fibers ? "all" : "essential",
    serving: false
  })

/**
 * With `fibers: false` the test drives the verifier itself (TestClock). The module provides
 * `CircuitBreaker` (checked when the layer is built); the composed layer's type cannot say so.
 */
export const breakerLayer = (env: Record<string, string>, fibers = true) =>
  compose(env, fibers) as Layer.Layer<Layer.Success<ReturnType<typeof compose>> | CircuitBreaker, unknown>

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
