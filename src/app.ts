/**
 * The application as one layer graph, the one definition the server, the CLI and the tests use:
 * core services, then every module (built providers first, then wired), then — for the server —
 * the HTTP server over the route table. Observability (logging, tracing) is provided to the whole
 * graph.
 */
import { Effect, Layer } from "effect"
import { type CompositionOptions, composeModules } from "./core/application.ts"
import { AppConfig } from "./core/config.ts"
import { serverCommandRunner } from "./core/control/commands.ts"
import { controlSocketLayer } from "./core/control/server.ts"
import { coreModule } from "./core/core-module.ts"
import { CoreLive } from "./core/core-services.ts"
import { LockHolderRole } from "./core/db/data-dir-lock.ts"
import { HttpApp, NodeServerLive } from "./core/http/server.ts"
import type { CoreServices, Module } from "./core/module.ts"
import { loggingFromConfig } from "./core/observability/logging.ts"
import { tracingLayer } from "./core/observability/tracing.ts"
import { Shutdown } from "./core/shutdown.ts"

export interface ServicesOptions extends CompositionOptions {
  /** Runs after core is built and before the modules are (e.g. the CLI waits for Redis here). */
  readonly beforeModules?: Layer.Layer<never, unknown, CoreServices>
}

/** Core and the modules, without the HTTP server: what the CLI and service-level tests run on. */
export const servicesLayer = (
  modules: ReadonlyArray<Module>,
  config: Layer.Layer<AppConfig, unknown>,
  options: ServicesOptions
) =>
  Layer.unwrap(
    Effect.gen(function* () {
      const settings = yield* AppConfig
      return composeModules([coreModule, ...modules], options).pipe(
        Layer.provideMerge(options.beforeModules ?? Layer.empty),
        Layer.provideMerge(CoreLive),
        Layer.provide([loggingFromConfig, tracingLayer(settings.otlpEndpoint)])
      )
    })
  ).pipe(Layer.provideMerge(config))

/** What this process' hold on an embedded data directory says about it to another process. */
const serverLockRole = Layer.effect(
  LockHolderRole,
  Effect.map(AppConfig, (config) => ({ kind: "server" as const, label: `server on ${config.host}:${config.port}` }))
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
      return Shutdown.beginOnRelease.pipe(
        Layer.provideMerge(HttpApp),
        Layer.provideMerge(NodeServerLive),
        Layer.provideMerge(controlSocketLayer(serverCommandRunner([coreModule, ...modules]))),
        Layer.provideMerge(
          Layer.merge(composeModules([coreModule, ...modules], { fibers: "all", serving: true }), startup)
        ),
        Layer.provideMerge(CoreLive.pipe(Layer.provide(serverLockRole))),
        Layer.provide([loggingFromConfig, tracingLayer(settings.otlpEndpoint)])
      )
    })
  ).pipe(Layer.provideMerge(config))
