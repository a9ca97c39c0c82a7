/**
 * The module contract (ARCHITECTURE.md §3). A module is a value: its name, the layer of its
 * services, its supervised fibers, its routes (each with a declared permission) and its console
 * navigation entries. Adding a capability is a folder under `src/plugins/` and a line in
 * `src/modules.ts`; nothing else changes.
 */

import type { PgClient } from "@effect/sql-pg"
import { Effect, Layer } from "effect"
import type { SqlClient } from "effect/sql"
import type { Audit } from "./audit/audit.ts"
import type { AccessControl } from "./auth/access.ts"
import type { ApiRateLimiter } from "./auth/api-rate-limit.ts"
import type { Login } from "./auth/login.ts"
import type { Sessions } from "./auth/sessions.ts"
import type { Users } from "./auth/users.ts"
import type { CircuitBreaker } from "./breaker/service.ts"
import type { AppConfig } from "./config.ts"
import type { DatabaseInfo } from "./db/client.ts"
import { type RegisteredRoute, type RouteSpec, RouteTable } from "./http/route.ts"
import { type NavEntry, Navigation } from "./navigation.ts"
import type { Metrics } from "./observability/metrics.ts"
import type { Readiness } from "./readiness.ts"
import type { RedisConnection } from "./redis/client.ts"
import type { SharedState } from "./redis/shared-state.ts"
import type { Shutdown } from "./shutdown.ts"
import { type FiberSpec, Supervisor } from "./supervisor.ts"

/** What core provides to every module. */
export type CoreServices =
  | AppConfig
  | Audit
  | Metrics
  | SqlClient.SqlClient
  | PgClient.PgClient
  | DatabaseInfo
  | RedisConnection
  | SharedState
  | Supervisor
  | Readiness
  | RouteTable
  | Navigation
  | AccessControl
  | ApiRateLimiter
  | Users
  | Sessions
  | Login
  | CircuitBreaker
  | Shutdown

export interface ModuleSpec<S, E> {
  readonly name: string
  /**
   * Provides the module's services (`Layer.empty` if it has none); another module that needs them
   * provides the same layer value, and the layer graph builds it once.
   */
  readonly layer: Layer.Layer<S, E, CoreServices>
  readonly fibers?: ReadonlyArray<FiberSpec<S | CoreServices>>
  readonly routes?: ReadonlyArray<RouteSpec<S | CoreServices>>
  readonly navigation?: ReadonlyArray<NavEntry>
}

/** A module ready to install: its services built, routes registered, fibers started. */
export interface Module {
  readonly name: string
  readonly install: Layer.Layer<never, unknown, CoreServices>
}

export const defineModule = <S = never, E = never>(spec: ModuleSpec<S, E>): Module => {
  const wiring = Layer.effectDiscard(
    Effect.gen(function* () {
      const services = yield* Effect.context<S | CoreServices>()
      const table = yield* RouteTable
      const navigation = yield* Navigation
      const supervisor = yield* Supervisor
      const routes: Array<RegisteredRoute> = (spec.routes ?? []).map(({ fast, ...r }) => ({
        ...r,
        module: spec.name,
        handler: Effect.provide(r.handler, services),
        ...(fast === undefined ? {} : { fast: Effect.provide(fast, services) })
      }))
      yield* table.add(routes)
      yield* navigation.add(spec.navigation ?? [])
      for (const fiber of spec.fibers ?? []) {
        yield* supervisor.start({ ...fiber, run: (heartbeat) => Effect.provide(fiber.run(heartbeat), services) })
      }
    })
  )
  return { name: spec.name, install: wiring.pipe(Layer.provide(spec.layer)) }
}
