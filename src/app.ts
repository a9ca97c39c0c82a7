/**
 * The application as one layer graph: core services, then every module (services, routes,
 * fibers, navigation), then the HTTP server over the route table. Observability (logging,
 * tracing) is provided to the whole graph.
 */
import { Effect, Layer } from "effect"
import { Audit } from "./core/audit/audit.ts"
import { ApiKeyAuthenticatorLive } from "./core/auth/api-keys.ts"
import { ApiRateLimiter } from "./core/auth/api-rate-limit.ts"
import { IdentityLive } from "./core/auth/identity.ts"
import { CircuitBreakerLive } from "./core/breaker/live.ts"
import { AppConfig } from "./core/config.ts"
import { coreModule } from "./core/core-module.ts"
import { DatabaseLive } from "./core/db/client.ts"
import { RouteTable } from "./core/http/route.ts"
import { HttpApp, NodeServerLive } from "./core/http/server.ts"
import type { Module } from "./core/module.ts"
import { Navigation } from "./core/navigation.ts"
import { loggingFromConfig } from "./core/observability/logging.ts"
import { Metrics } from "./core/observability/metrics.ts"
import { tracingLayer } from "./core/observability/tracing.ts"
import { Readiness } from "./core/readiness.ts"
import { RedisConnection } from "./core/redis/client.ts"
import { SharedState } from "./core/redis/shared-state.ts"
import { Shutdown } from "./core/shutdown.ts"
import { Supervisor } from "./core/supervisor.ts"

/** Everything core provides to modules; needs only the configuration. */
export const CoreLive = Layer.mergeAll(IdentityLive, CircuitBreakerLive).pipe(
  Layer.provideMerge(Layer.mergeAll(ApiKeyAuthenticatorLive, ApiRateLimiter.layer)),
  Layer.provideMerge(Audit.layer),
  Layer.provideMerge(
    Layer.mergeAll(
      Supervisor.layer,
      Navigation.layer,
      Shutdown.layer,
      DatabaseLive,
      SharedState.layer.pipe(Layer.provideMerge(RedisConnection.layer))
    )
  ),
  Layer.provideMerge(Layer.mergeAll(Metrics.layer, Readiness.layer, RouteTable.layer))
)

/**
 * Core, the modules and the HTTP server, for a given configuration layer; `startup` runs with
 * the rest (with logging), for what only the served program checks.
 */
export const appLayer = (
  modules: ReadonlyArray<Module>,
  config: Layer.Layer<AppConfig, unknown>,
  startup: Layer.Layer<never> = Layer.empty
) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const settings = yield* AppConfig
      const installed = Layer.mergeAll(coreModule.install, startup, ...modules.map((m) => m.install))
      return Shutdown.beginOnRelease.pipe(
        Layer.provideMerge(HttpApp),
        Layer.provideMerge(NodeServerLive),
        Layer.provide(installed),
        Layer.provideMerge(CoreLive),
        Layer.provide([loggingFromConfig, tracingLayer(settings.otlpEndpoint)])
      )
    })
  ).pipe(Layer.provideMerge(config))
