/**
 * The one composition of core and the modules, for the server, the CLI and the tests. First every
 * module's services are built, providers before consumers, each over core plus the contracts
 * built so far; only what a module names in `provides` joins the shared graph, the rest stays
 * private to it. Then everything else is wired over the combined graph: permissions (before the
 * routes that name them), topics, settings, retention jobs, error answers, navigation, routes,
 * console parts (dashboard panels, page status) and fibers. A declaration that does not fit (a
 * missing provider, a cycle, a duplicate) stops the start with a message naming the modules.
 */
import { Context, Effect, Layer, Schema } from "effect"
import { Permissions } from "./auth/permissions.ts"
import { EventBus } from "./contracts/event-bus.ts"
import { ErrorAnswers } from "./errors/declared-answers.ts"
import { isHttpAnswer } from "./errors/http-answer.ts"
import { ConsoleParts } from "./http/console-parts.ts"
import { RouteTable } from "./http/route.ts"
import type { Contract, CoreServices, Module } from "./module.ts"
import { Navigation } from "./navigation.ts"
import { Retention } from "./retention/retention.ts"
import { Settings } from "./settings/service.ts"
import { Supervisor } from "./supervisor.ts"

export class ModuleWiringError extends Schema.TaggedError<ModuleWiringError>()("ModuleWiringError", {
  message: Schema.String
}) {}

export interface CompositionOptions {
  /**
   * Which fibers to start: all (the server), or only the essential ones (a CLI command, a test
   * that drives the others itself under TestClock).
   */
  readonly fibers: "all" | "essential"
  /** Whether this composition serves (runs the modules' `onServe`); false for the CLI. */
  readonly serving: boolean
}

export interface ModuleContextsShape {
  /** A module's whole context: core, the provided contracts and its private services. */
  readonly of: (module: string) => Context.Context<never>
}

/** Each module's context, for what runs in a module's name outside a request (its CLI commands). */
export class ModuleContexts extends Context.Service<ModuleContexts, ModuleContextsShape>()(
  "breakwater/ModuleContexts"
) {}

const nameOf = (contract: Contract) => contract.key.replace(/^breakwater\//, "")

/**
 * The modules in build order: each after the providers of what it requires. Fails naming the
 * module and the contract when nothing provides it, and the modules of a cycle.
 */
export const buildOrder = (
  modules: ReadonlyArray<Module>,
  /** Whether core itself provides a contract (then requiring it needs no module). */
  inCore: (key: string) => boolean = () => false
): Effect.Effect<ReadonlyArray<Module>, ModuleWiringError> =>
  Effect.suspend(() => {
    const fail = (message: string) => Effect.fail(new ModuleWiringError({ message }))
    const names = new Set<string>()
    for (const m of modules) {
      if (!/^[a-z][a-z0-9-]*$/.test(m.name)) return fail(`a module is named "${m.name}": use lower-case kebab case`)
      if (names.has(m.name)) return fail(`two modules are named ${m.name}`)
      names.add(m.name)
    }
    const providerOf = new Map<string, Module>()
    for (const m of modules)
      for (const contract of m.provides) {
        const other = providerOf.get(contract.key)
        if (other !== undefined)
          return fail(`${nameOf(contract)} is provided by both ${other.name} and ${m.name}: install one of them`)
        providerOf.set(contract.key, m)
      }
    for (const m of modules)
      for (const contract of m.requires)
        if (!providerOf.has(contract.key) && !inCore(contract.key)) {
          const usual = contract.providedBy === undefined ? "" : ` (it comes with the ${contract.providedBy} module)`
          return fail(
            `module ${m.name} requires ${nameOf(contract)}, which no installed module provides${usual}: add the provider to src/modules.ts or remove ${m.name}`
          )
        }
    const ordered: Array<Module> = []
    const state = new Map<string, "visiting" | "done">()
    const visit = (m: Module, path: ReadonlyArray<string>): string | undefined => {
      const seen = state.get(m.name)
      if (seen === "done") return undefined
      if (seen === "visiting") return `the modules require each other in a cycle: ${[...path, m.name].join(" → ")}`
      state.set(m.name, "visiting")
      for (const contract of m.requires) {
        const provider = providerOf.get(contract.key)
        if (provider !== undefined && provider !== m) {
          const problem = visit(provider, [...path, m.name])
          if (problem !== undefined) return problem
        }
      }
      state.set(m.name, "done")
      ordered.push(m)
      return undefined
    }
    for (const m of modules) {
      const problem = visit(m, [])
      if (problem !== undefined) return fail(problem)
    }
    return Effect.succeed(ordered)
  })

/** Checks the declarations that need no service: error answers and navigation permissions. */
const checkDeclarations = (m: Module, isPermission: (value: unknown) => boolean) =>
  Effect.suspend(() => {
    for (const [tag, answer] of Object.entries(m.errors))
      if (!isHttpAnswer(answer))
        return Effect.fail(
          new ModuleWiringError({
            message: `module ${m.name} declares an invalid HTTP answer for ${tag}: a 4xx/5xx status, a snake_case code and a title`
          })
        )
    // An entry shown to holders of any of several permissions may name one of a module that is not
    // installed (nobody holds it); naming none that exists is a mistake.
    for (const entry of m.navigation)
      if (!entry.permissions.some(isPermission))
        return Effect.fail(
          new ModuleWiringError({
            message: `module ${m.name}'s navigation entry ${entry.label} names no permission an installed module declares (${entry.permissions.join(", ")})`
          })
        )
    return Effect.void
  })

/**
 * The modules over core: builds their services, then wires the rest. Provides the contracts the
 * modules provide (for the HTTP server's and the CLI's use, and for tests that look inside).
 */
export const composeModules = (modules: ReadonlyArray<Module>, options: CompositionOptions) =>
  Layer.effectContext(
    Effect.gen(function* () {
      const core = yield* Effect.context<CoreServices>()
      const ordered = yield* buildOrder(modules, (key) => core.mapUnsafe.has(key))
      const permissions = yield* Permissions
      for (const m of ordered) yield* permissions.declare(m.name, m.permissions)
      // Settings name the permission that may change them: declared after every permission.
      const settings = yield* Settings
      for (const m of ordered) yield* settings.declare(m.name, m.settings)
      // A job's period must be a setting someone can change, so it must be declared.
      for (const m of ordered)
        for (const job of m.retentionJobs)
          yield* settings.lookup(job.period.key).pipe(
            Effect.catchTag("SettingNotFound", () =>
              Effect.fail(
                new ModuleWiringError({
                  message: `module ${m.name}'s retention job ${job.name} reads its period from the setting ${job.period.key}, which no installed module declares: add it to the module's settings`
                })
              )
            )
          )

      let graph: Context.Context<never> = core as Context.Context<never>
      const own = new Map<string, Context.Context<never>>()
      for (const m of ordered) {
        const built = yield* m.build(graph)
        for (const contract of m.provides) {
          if (!built.mapUnsafe.has(contract.key))
            return yield* new ModuleWiringError({
              message: `module ${m.name} says it provides ${nameOf(contract)}, but its layer did not build it`
            })
          graph = Context.add(graph, contract as Context.Key<never, unknown>, Context.getUnsafe(built, contract))
        }
        own.set(m.name, built)
      }

      const table = yield* RouteTable
      const navigation = yield* Navigation
      const supervisor = yield* Supervisor
      const answers = yield* ErrorAnswers
      const bus = yield* EventBus
      const retention = yield* Retention
      const consoleParts = yield* ConsoleParts
      for (const m of ordered) {
        yield* checkDeclarations(m, permissions.isPermission)
        yield* answers.declare(m.name, m.errors)
        yield* bus.declare(m.name, m.topics)
        yield* retention.register(m.name, m.retentionJobs)
        yield* navigation.add(m.navigation)
      }
      const contexts = new Map<string, Context.Context<never>>()
      const fibers = []
      const onServe = []
      for (const m of ordered) {
        const services = Context.merge(graph, own.get(m.name) ?? Context.empty())
        contexts.set(m.name, services)
        const wired = m.wiring(services)
        yield* table.add(wired.routes)
        yield* consoleParts
          .addPanels(m.name, wired.dashboard)
          .pipe(Effect.mapError((e) => new ModuleWiringError({ message: e.message })))
        if (wired.pageStatus !== undefined) yield* consoleParts.addStatus(wired.pageStatus)
        fibers.push(...wired.fibers)
        onServe.push(wired.onServe)
      }
      if (options.serving) for (const step of onServe) yield* step
      for (const fiber of fibers)
        if (options.fibers === "all" || fiber.essential === true) yield* supervisor.start(fiber)
      return Context.add(graph, ModuleContexts, {
        of: (name) => contexts.get(name) ?? graph
      })
    })
  )
