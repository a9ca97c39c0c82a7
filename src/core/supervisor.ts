/**
 * Supervisor: runs named background fibers for the life of the application and restarts one that
 * fails (or ends) after a capped exponential backoff. Each fiber reports useful work through a
 * heartbeat, which resets its backoff and sets its last-success metric; its state is one of
 * Breakwater's own health components (`/readyz`, About page).
 */
import { Cause, Clock, Context, Duration, Effect, Exit, Layer, Schema, type Scope } from "effect"
import { Metrics } from "./observability/metrics.ts"

export interface FiberSpec<R = never> {
  readonly name: string
  /** Runs the fiber's work until it fails or ends; calls `heartbeat` after each unit of useful work. */
  readonly run: (heartbeat: Effect.Effect<void>) => Effect.Effect<void, unknown, R>
  /**
   * Runs wherever its service does, CLI commands included: the service does not work without it
   * (the audit writer). Other fibers run only in the server (and in tests that start them).
   */
  readonly essential?: true
  /** First restart delay and its cap; defaults 1 s and 60 s. */
  readonly backoff?: { readonly initial: Duration.Input; readonly max: Duration.Input }
}

/** A fiber that runs `step` every `interval` and counts each completed step as a success. */
export const periodicFiber = <R>(
  name: string,
  interval: Duration.Input,
  step: Effect.Effect<void, unknown, R>,
  backoff?: FiberSpec["backoff"]
): FiberSpec<R> => ({
  name,
  run: (heartbeat) => step.pipe(Effect.andThen(heartbeat), Effect.andThen(Effect.sleep(interval)), Effect.forever),
  ...(backoff === undefined ? {} : { backoff })
})

export const FiberState = Schema.Literals(["running", "backing-off"])
export type FiberState = typeof FiberState.Type

/** A supervised fiber's state; times are milliseconds since the epoch. */
export const FiberStatus = Schema.Struct({
  name: Schema.String,
  state: FiberState,
  restarts: Schema.Number,
  startedAt: Schema.Number,
  lastSuccessAt: Schema.UndefinedOr(Schema.Number),
  lastFailure: Schema.UndefinedOr(Schema.Struct({ at: Schema.Number, message: Schema.String })),
  nextRestartAt: Schema.UndefinedOr(Schema.Number)
})
export type FiberStatus = typeof FiberStatus.Type

export interface SupervisorShape {
  /** Starts a supervised fiber in the caller's scope (the application's): it stops when that scope closes. */
  readonly start: <R>(spec: FiberSpec<R>) => Effect.Effect<void, never, R | Scope.Scope>
  readonly statuses: Effect.Effect<ReadonlyArray<FiberStatus>>
}

/** The restart delay after `failures` consecutive failures: initial · 2^(failures-1), capped. */
export const restartDelay = (failures: number, initial: Duration.Input, max: Duration.Input): Duration.Duration =>
  Duration.min(
    Duration.times(Duration.fromInputUnsafe(initial), 2 ** Math.max(0, failures - 1)),
    Duration.fromInputUnsafe(max)
  )

export class Supervisor extends Context.Service<Supervisor, SupervisorShape>()("breakwater/Supervisor") {
  static readonly layer = Layer.effect(
    Supervisor,
    Effect.gen(function* () {
      const metrics = yield* Metrics
      const restartsTotal = metrics.counter({
        name: "breakwater_fiber_restarts_total",
        help: "Restarts of a supervised background fiber after it failed or ended.",
        labelNames: ["fiber"]
      })
      const lastSuccess = metrics.gauge({
        name: "breakwater_fiber_last_success_timestamp_seconds",
        help: "Unix time of the last successful unit of work of a supervised fiber.",
        labelNames: ["fiber"]
      })
      const table = new Map<string, FiberStatus>()
      const update = (name: string, patch: Partial<FiberStatus>) => {
        const current = table.get(name)
        if (current !== undefined) table.set(name, { ...current, ...patch })
      }

      const start = <R>(spec: FiberSpec<R>): Effect.Effect<void, never, R | Scope.Scope> =>
        Effect.gen(function* () {
          if (table.has(spec.name)) return yield* Effect.die(new Error(`fiber ${spec.name} is already supervised`))
          const now = yield* Clock.currentTimeMillis
          table.set(spec.name, {
            name: spec.name,
            state: "running",
            restarts: 0,
            startedAt: now,
            lastSuccessAt: undefined,
            lastFailure: undefined,
            nextRestartAt: undefined
          })
          restartsTotal.inc({ fiber: spec.name }, 0)
          const initial = spec.backoff?.initial ?? "1 second"
          const max = spec.backoff?.max ?? "60 seconds"
          let failures = 0
          const heartbeat = Effect.gen(function* () {
            const at = yield* Clock.currentTimeMillis
            failures = 0
            update(spec.name, { lastSuccessAt: at })
            lastSuccess.set({ fiber: spec.name }, at / 1000)
          })
          const loop = Effect.gen(function* () {
            while (true) {
              update(spec.name, { state: "running", nextRestartAt: undefined })
              const exit = yield* Effect.exit(spec.run(heartbeat))
              const at = yield* Clock.currentTimeMillis
              const message = Exit.isFailure(exit) ? Cause.pretty(exit.cause).split("\n")[0]! : "fiber ended"
              failures++
              const delay = restartDelay(failures, initial, max)
              const status = table.get(spec.name)
              update(spec.name, {
                state: "backing-off",
                restarts: (status?.restarts ?? 0) + 1,
                lastFailure: { at, message },
                nextRestartAt: at + Duration.toMillis(delay)
              })
              restartsTotal.inc({ fiber: spec.name })
              yield* Effect.logWarning(`fiber ${spec.name} stopped; restarting in ${Duration.format(delay)}`).pipe(
                Effect.annotateLogs({ fiber: spec.name, reason: message }),
                Exit.isFailure(exit) ? Effect.annotateLogs({ cause: Cause.pretty(exit.cause) }) : (e) => e
              )
              yield* Effect.sleep(delay)
            }
          })
          yield* Effect.forkScoped(
            loop.pipe(
              Effect.annotateLogs({ fiber: spec.name }),
              Effect.ensuring(Effect.sync(() => table.delete(spec.name)))
            )
          )
        })

      return Supervisor.of({
        start,
        statuses: Effect.sync(() => [...table.values()].sort((a, b) => a.name.localeCompare(b.name)))
      })
    })
  )
}
