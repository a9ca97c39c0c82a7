/**
 * The application as one layer graph: core services, then every module (services, routes,
 * fibers, navigation), then the HTTP server over the route table. Observability (logging,
 * tracing) is provided to the whole graph.
 */
import { Effect, Layer } from "effect"
import { AppConfig } from "./core/config.ts"
import { coreModule } from "./core/core-module.ts"
import { CoreLive } from "./core/core-services.ts"
import { HttpApp, NodeServerLive } from "./core/http/server.ts"
import type { Module } from "./core/module.ts"
import { loggingFromConfig } from "./core/observability/logging.ts"
import { tracingLayer } from "./core/observability/tracing.ts"
import { Shutdown } from "./core/shutdown.ts"

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
