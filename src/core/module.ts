/**
 * The module contract, v2 (ARCHITECTURE.md §3, ADR 0015). A module is a value that declares:
 * its name; the contract services it **provides** to the other modules (tags in
 * `core/contracts/`) and the layer that builds them with its private services; the contracts it
 * **requires** beyond core; its supervised fibers; its routes and navigation; the permissions it
 * defines and the roles that get them; its settings, event topics and retention jobs; its CLI
 * commands; and the HTTP answers of error tags it fails with but does not define. The application
 * (`core/application.ts`) builds every module's services first, in an order that puts providers
 * before their consumers, then wires all the rest over the combined graph. Adding a capability is
 * a folder under `src/plugins/` and a line in `src/modules.ts`.
 */

import type { PgClient } from "@effect/sql-pg"
import { type Context, Effect, Layer, type Scope } from "effect"
import type { Command } from "effect/cli"
import type { SqlClient } from "effect/sql"
import type { Audit, AuditWriter } from "./audit/audit.ts"
import type { AccessControl } from "./auth/access.ts"
import type { ApiRateLimiter } from "./auth/api-rate-limit.ts"
import type { Login } from "./auth/login.ts"
import type { PermissionSpec, Permissions } from "./auth/permissions.ts"
import type { Sessions } from "./auth/sessions.ts"
import type { Users } from "./auth/users.ts"
import type { AppConfig } from "./config.ts"
import type { TopicSpec } from "./contracts/event-bus.ts"
import type { DatabaseInfo } from "./db/client.ts"
import type { HttpAnswer } from "./errors/http-answer.ts"
import type { EventServices } from "./events/index.ts"
import type { ConsoleParts, DashboardPanel, PageStatus } from "./http/console-parts.ts"
import type { RegisteredRoute, RouteSpec, RouteTable } from "./http/route.ts"
import type { NavEntry, Navigation } from "./navigation.ts"
import type { Metrics } from "./observability/metrics.ts"
import type { Readiness } from "./readiness.ts"
import type { RedisConnection } from "./redis/client.ts"
import type { SharedState } from "./redis/shared-state.ts"
import type { RetentionJob } from "./retention/job.ts"
import type { Retention } from "./retention/retention.ts"
import type { Settings } from "./settings/service.ts"
import type { SettingSpec } from "./settings/spec.ts"
import type { Shutdown } from "./shutdown.ts"
import type { FiberSpec, Supervisor } from "./supervisor.ts"

/** What core provides to every module. */
export type CoreServices =
  | AppConfig
  | Audit
  | AuditWriter
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
  | ConsoleParts
  | Permissions
  | AccessControl
  | ApiRateLimiter
  | Users
  | Sessions
  | Login
  | Shutdown
  | Settings
  | Retention
  | EventServices

/**
 * A contract another module may require: a `Context.Service` tag from `core/contracts/`. A
 * contract may name the module that usually provides it (`static providedBy`), for the message
 * when none does.
 */
export type Contract = Context.Key<unknown, unknown> & { readonly providedBy?: string }

/** A setting of any value type, as a module lists them. */
export type AnySetting = SettingSpec<never> | SettingSpec<unknown>

/**
 * A CLI subcommand of a module. Its handler may use core, the module's services and what it
 * requires: the CLI runs it over the same composition as the server (without the fibers).
 */
export type ModuleCommand = Command.Command.Any

export interface ModuleSpec<Services = never, Requires = never> {
  readonly name: string
  /** The contract tags (built by its layer) it provides to the rest of the graph. */
  readonly provides?: ReadonlyArray<Context.Key<NoInfer<Services>, unknown>>
  /** Every background fiber it runs, supervised; none is started from inside a layer. */
  readonly fibers?: ReadonlyArray<FiberSpec<NoInfer<Services | Requires> | CoreServices>>
  /**
   * What the server does once when it starts, after every module is wired and before it listens
   * (creating the first administrator); CLI commands skip it.
   */
  readonly onServe?: Effect.Effect<void, unknown, NoInfer<Services | Requires> | CoreServices>
  readonly routes?: ReadonlyArray<RouteSpec<NoInfer<Services | Requires> | CoreServices>>
  readonly navigation?: ReadonlyArray<NavEntry>
  /** Its sections of the dashboard (`core/http/console-parts.ts`). */
  readonly dashboard?: ReadonlyArray<DashboardPanel<NoInfer<Services | Requires> | CoreServices>>
  /** A state every console page carries for those who may see it (badge, title, favicon). */
  readonly pageStatus?: PageStatus<NoInfer<Services | Requires> | CoreServices>
  /** Permissions this module defines, and the roles (besides admin, who holds all) that get them. */
  readonly permissions?: ReadonlyArray<PermissionSpec>
  readonly settings?: ReadonlyArray<AnySetting>
  /** Event-bus topics it publishes on, each with the permission a reader needs. */
  readonly topics?: ReadonlyArray<TopicSpec>
  readonly retentionJobs?: ReadonlyArray<RetentionJob>
  readonly commands?: ReadonlyArray<ModuleCommand>
  /** HTTP answers of error tags this module fails with but that do not carry their own. */
  readonly errors?: Readonly<Record<string, HttpAnswer>>
}

/** The service identifier of a contract tag (distributes over a union of tags). */
type ContractOf<K> = K extends Context.Key<infer I, infer _S> ? I : never

/** Refuses (at compile time) a layer that needs a service neither core nor `requires` gives it. */
type LayerNeedsOnly<L extends Layer.Layer<never, unknown, unknown>, Allowed> = [Layer.Services<L>] extends [Allowed]
  ? unknown
  : { readonly layer: { readonly needsUndeclared: Exclude<Layer.Services<L>, Allowed> } }

/** What the application needs to wire a module: its declarations and the two steps of its start. */
export interface Module {
  readonly name: string
  readonly provides: ReadonlyArray<Contract>
  readonly requires: ReadonlyArray<Contract>
  readonly permissions: ReadonlyArray<PermissionSpec>
  readonly settings: ReadonlyArray<AnySetting>
  readonly topics: ReadonlyArray<TopicSpec>
  readonly retentionJobs: ReadonlyArray<RetentionJob>
  readonly errors: Readonly<Record<string, HttpAnswer>>
  readonly navigation: ReadonlyArray<NavEntry>
  readonly commands: ReadonlyArray<ModuleCommand>
  /** Builds the module's services over `graph` (core and its providers), in the application's scope. */
  readonly build: (graph: Context.Context<never>) => Effect.Effect<Context.Context<never>, unknown, Scope.Scope>
  /** Its routes and fibers with `services` (the whole graph plus its private services) provided. */
  readonly wiring: (services: Context.Context<never>) => {
    readonly routes: ReadonlyArray<RegisteredRoute>
    readonly fibers: ReadonlyArray<FiberSpec>
    readonly onServe: Effect.Effect<void, unknown>
    readonly dashboard: ReadonlyArray<DashboardPanel>
    readonly pageStatus: PageStatus | undefined
  }
}

/**
 * Declares a module. The type parameters are inferred: what its layer builds (the contracts it
 * provides and its private services) and what it requires; routes and fibers may use any of them
 * plus core. Give the layer as a constant (`layer: services`): TypeScript cannot read the type of
 * a layer built inline in the declaration (`layer: Layer.merge(…)`), and then refuses the routes.
 */
export const defineModule = <
  L extends Layer.Layer<never, unknown, unknown> = Layer.Layer<never>,
  const Req extends ReadonlyArray<Contract> = readonly []
>(
  spec: ModuleSpec<Layer.Success<L>, ContractOf<Req[number]>> & {
    /**
     * Contracts it needs from other modules (or core); a missing provider stops the start. Their
     * services are what its layer, routes, fibers and commands may use beyond core and its own.
     */
    readonly requires?: Req
    /** Builds the contracts it provides and its private services, from core and what it requires. */
    readonly layer?: L
  } & LayerNeedsOnly<L, CoreServices | ContractOf<Req[number]>>
): Module => {
  type Requires = ContractOf<Req[number]>
  type Own = Layer.Success<L> | Requires | CoreServices
  const layer = (spec.layer ?? Layer.empty) as Layer.Layer<never, unknown, CoreServices | Requires>
  return {
    name: spec.name,
    provides: spec.provides ?? [],
    requires: spec.requires ?? [],
    permissions: spec.permissions ?? [],
    settings: spec.settings ?? [],
    topics: spec.topics ?? [],
    retentionJobs: spec.retentionJobs ?? [],
    errors: spec.errors ?? {},
    navigation: spec.navigation ?? [],
    commands: spec.commands ?? [],
    // The application checked `requires` and built core and the providers before it calls these:
    // the graph it hands over holds every service the types ask for, which an erased context cannot show.
    build: (graph) =>
      Effect.flatMap(Effect.scope, (scope) =>
        Layer.buildWithScope(layer, scope).pipe(Effect.provide(graph as Context.Context<CoreServices | Requires>))
      ) as Effect.Effect<Context.Context<never>, unknown, Scope.Scope>,
    wiring: (graph) => {
      const services = graph as Context.Context<Own>
      const status = spec.pageStatus
      return {
        routes: (spec.routes ?? []).map(({ fast, ...r }) => ({
          ...r,
          module: spec.name,
          handler: Effect.provide(r.handler, services),
          ...(fast === undefined ? {} : { fast: Effect.provide(fast, services) })
        })),
        fibers: (spec.fibers ?? []).map((fiber) => ({
          ...fiber,
          run: (heartbeat: Effect.Effect<void>) => Effect.provide(fiber.run(heartbeat), services)
        })),
        onServe: spec.onServe === undefined ? Effect.void : Effect.provide(spec.onServe, services),
        dashboard: (spec.dashboard ?? []).map((panel) => ({
          ...panel,
          render: Effect.provide(panel.render, services)
        })),
        pageStatus:
          status === undefined
            ? undefined
            : { ...status, render: (principal) => Effect.provide(status.render(principal), services) }
      }
    }
  }
}
