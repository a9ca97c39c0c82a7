/**
 * Starts the whole application (core, modules, HTTP server on a free port) against the test
 * stores, for the life of a scope, and tells where it listens.
 */
import { Context, Effect, Exit, Layer, Scope } from "effect"
import { HttpServer } from "effect/http"
import { appLayer } from "../../src/app.ts"
import { AppConfig } from "../../src/core/config.ts"
import type { Module } from "../../src/core/module.ts"
import { modules as allModules } from "../../src/modules.ts"
import type { TestStores } from "./database.ts"
import { testAdmin } from "./session.ts"

const build = (env: Record<string, string>, modules: ReadonlyArray<Module>) =>
  Layer.build(appLayer(modules, AppConfig.layerFrom(env)))

export interface RunningApp {
  readonly baseUrl: string
  /** The application's services, to look inside from a test. */
  readonly context: Effect.Success<ReturnType<typeof build>>
}

/** The environment of a test app: its stores, a free port, quiet logs, a known first administrator. */
export const testEnv = (stores: TestStores | undefined, extra: Record<string, string> = {}) => ({
  PORT: "0",
  HOST: "127.0.0.1",
  LOG_LEVEL: "warn",
  BREAKWATER_ADMIN_EMAIL: testAdmin.email,
  BREAKWATER_ADMIN_PASSWORD: testAdmin.password,
  ...(stores === undefined
    ? {}
    : { DATABASE_URL: stores.databaseUrl, REDIS_URL: stores.redisUrl, REDIS_KEY_PREFIX: stores.redisKeyPrefix }),
  ...extra
})

export const startApp = (
  env: Record<string, string>,
  modules: ReadonlyArray<Module> = allModules
): Effect.Effect<RunningApp, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const context = yield* build(env, modules)
    const server = Context.get(context, HttpServer.HttpServer)
    return { baseUrl: HttpServer.formatAddress(server.address), context }
  })

/**
 * A service a module provides (a contract such as `CircuitBreaker`), from a running app: the
 * composed layer's type cannot list what the modules provide, the start checked they did.
 */
export const provided = <I, S>(app: RunningApp, tag: Context.Key<I, S>): S =>
  Context.getUnsafe(app.context as Context.Context<I>, tag)

/** Starts the app outside Effect (for plain vitest hooks); `stop` closes it. */
export const startAppPromise = async (env: Record<string, string>, modules?: ReadonlyArray<Module>) => {
  const scope = await Effect.runPromise(Scope.make())
  const app = await Effect.runPromise(startApp(env, modules).pipe(Scope.provide(scope)))
  return { ...app, stop: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}
