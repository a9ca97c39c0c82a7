/**
 * Supervisor: runs named background fibers for the life of the application and restarts one that
 * fails (or ends) after a capped exponential backoff. Each fiber reports useful work through a
 * heartbeat, which resets its backoff and sets its last-success metric; its state is one of
 * Breakwater's own health components (`/readyz`, About page).
 *
 * Each fiber declares where it runs when several replicas share the database (ARCHITECTURE.md §3,
 * §6): `"each"` runs in every process; `"one"` runs in one replica at a time, under a lease in
 * PostgreSQL (`core/leases/lease.ts`, ADR 0022). A "one" fiber stands by (state `standby`, a
 * healthy state) until this process takes its lease, runs while the lease is renewed, and is
 * interrupted the moment the lease is lost; when it fails or ends it gives the lease up before its
 * backoff, so a replica whose fiber keeps failing lets another one try.
 */
import { Cause, Clock, Context, Deferred, Duration, Effect, Exit, Layer, Schema, type Scope } from "effect"
import type { SqlClient } from "effect/sql"
import {
  type LeaseHeld,
  Leases,
  type LeasesShape,
  type LeaseTiming,
  type LeaseUnavailable,
  makeHolderId
} from "./leases/lease.ts"
import { Metrics } from "./observability/metrics.ts"

/** Where a fiber runs: in every replica, or in one at a time (under a lease). */
export const Replicas = Schema.Literals(["each", "one"])
export type Replicas = typeof Replicas.Type

export interface FiberSpec<R = never, P extends Replicas = Replicas> {
  readonly name: string
  /**
   * `"each"`: every replica runs it, because it keeps that process's own memory, connections or
   * copies current (a cache, a subscription, a queue in memory). `"one"`: a job on the shared
   * database that must run once across replicas (retention); one replica holds its lease, the
   * others stand by and take over within the lease's TTL when the holder dies or stops.
   */
  readonly replicas: P
  /** Runs the fiber's work until it fails or ends; calls `heartbeat` after each unit of useful work. */
  readonly run: (heartbeat: Effect.Effect<void>) => Effect.Effect<void, unknown, R>
  /**
   * Runs wherever its service does, CLI commands included: the service does not work without it
   * (the audit writer). Other fibers run only in the server (and in tests that start them). An
   * essential fiber must be `"each"`: a command cannot wait for a lease another process holds.
   */
  readonly essential?: true
  /** First restart delay and its cap; defaults 1 s and 60 s. */
  readonly backoff?: { readonly initial: Duration.Input; readonly max: Duration.Input }
}

/**
 * What starting a fiber needs beyond its own services: the database, for the lease of a `"one"`
 * fiber (a spec whose `replicas` is not known to be `"each"`).
 */
export type LeaseServices<P extends Replicas> = "one" extends P ? SqlClient.SqlClient : never

export interface PeriodicOptions<P extends Replicas> {
  /** Defaults to `"each"`: most periodic work samples or refreshes the process's own state. */
  readonly replicas?: P
  readonly backoff?: FiberSpec["backoff"]
}

/** A fiber that runs `step` every `interval` and counts each completed step as a success. */
export function periodicFiber<R>(
  name: string,
  interval: Duration.Input,
  step: Effect.Effect<void, unknown, R>,
  options?: PeriodicOptions<"each">
): FiberSpec<R, "each">
export function periodicFiber<R, P extends Replicas>(
  name: string,
  interval: Duration.Input,
  step: Effect.Effect<void, unknown, R>,
  options: PeriodicOptions<P> & { readonly replicas: P }
): FiberSpec<R, P>
export function periodicFiber<R>(
  name: string,
  interval: Duration.Input,
  step: Effect.Effect<void, unknown, R>,
  options: PeriodicOptions<Replicas> = {}
): FiberSpec<R> {
  return {
    name,
    replicas: options.replicas ?? "each",
    run: (heartbeat) => step.pipe(Effect.andThen(heartbeat), Effect.andThen(Effect.sleep(interval)), Effect.forever),
    ...(options.backoff === undefined ? {} : { backoff: options.backoff })
  }
}

/** `standby`: a `"one"` fiber whose lease another replica holds; healthy, not running here. */
export const FiberState = Schema.Literals(["running", "backing-off", "standby"])
export type FiberState = typeof FiberState.Type

/** A supervised fiber's state; times are milliseconds since the epoch. */
export const FiberStatus = Schema.Struct({
  name: Schema.String,
  replicas: Replicas,
  state: FiberState,
  restarts: Schema.Number,
  startedAt: Schema.Number,
  lastSuccessAt: Schema.UndefinedOr(Schema.Number),
  lastFailure: Schema.UndefinedOr(Schema.Struct({ at: Schema.Number, message: Schema.String })),
  nextRestartAt: Schema.UndefinedOr(Schema.Number),
  /** A `"one"` fiber's lease holder as last seen (this process's id while it runs here). */
  leaseHolder: Schema.UndefinedOr(Schema.String)
})
export type FiberStatus = typeof FiberStatus.Type

export interface SupervisorShape {
  /**
   * Starts a supervised fiber in the caller's scope (the application's): it stops when that scope
   * closes, and a `"one"` fiber then gives its lease up. A `"one"` fiber's first try for its lease
   * is made before this returns, so a lone replica reports it `running` from the start.
   */
  readonly start: <R, P extends Replicas>(
    spec: FiberSpec<R, P>
  ) => Effect.Effect<void, never, R | Scope.Scope | LeaseServices<P>>
  readonly statuses: Effect.Effect<ReadonlyArray<FiberStatus>>
  /** The lease holder id of this process (`host:pid:random`), as `fiber_leases.holder` shows it. */
  readonly holder: string
}

/** The restart delay after `failures` consecutive failures: initial · 2^(failures-1), capped. */
export const restartDelay = (failures: number, initial: Duration.Input, max: Duration.Input): Duration.Duration =>
  Duration.min(
    Duration.times(Duration.fromInputUnsafe(initial), 2 ** Math.max(0, failures - 1)),
    Duration.fromInputUnsafe(max)
  )

export interface SupervisorOptions {
  /** The lease holder id; by default `host:pid:random`. */
  readonly holder?: string
  /** The leases' TTL and intervals; by default {@link DEFAULT_LEASE_TIMING} (tests shorten them). */
  readonly leaseTiming?: Partial<LeaseTiming>
}

export class Supervisor extends Context.Service<Supervisor, SupervisorShape>()("breakwater/Supervisor") {
  static readonly layerWith = (options: SupervisorOptions = {}) =>
    Layer.effect(
      Supervisor,
      Effect.gen(function* () {
        const metrics = yield* Metrics
        const holder = options.holder ?? makeHolderId()
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
        const leaseHeld = metrics.gauge({
          name: "breakwater_fiber_lease_held",
          help: 'Whether this replica holds the lease of a replicas: "one" fiber (1) or stands by (0).',
          labelNames: ["fiber"]
        })
        const table = new Map<string, FiberStatus>()
        const update = (name: string, patch: Partial<FiberStatus>) => {
          const current = table.get(name)
          if (current !== undefined) table.set(name, { ...current, ...patch })
        }

        const leaseTimingOption = options.leaseTiming === undefined ? {} : { timing: options.leaseTiming }

        /**
         * One run of a `"one"` fiber: stand by until this process holds the lease, then run under
         * it. Ends like the fiber's run does, or with `LeaseLost` (the run interrupted); the lease
         * is given up either way before the supervisor's backoff.
         */
        const underLease = <R>(
          spec: FiberSpec<R>,
          leases: LeasesShape,
          heartbeat: Effect.Effect<void>,
          triedOnce: Effect.Effect<boolean>
        ) =>
          Effect.gen(function* () {
            update(spec.name, { state: "standby", nextRestartAt: undefined })
            // Logged when standing by starts and when the database stops or starts answering, not per try.
            let told: "held" | "unavailable" | undefined
            const refused = (refusal: LeaseHeld | LeaseUnavailable) =>
              Effect.gen(function* () {
                update(spec.name, {
                  state: "standby",
                  leaseHolder: refusal._tag === "LeaseHeld" ? refusal.holder : undefined
                })
                yield* triedOnce
                if (refusal._tag === "LeaseHeld" && told !== "held") {
                  told = "held"
                  yield* Effect.logInfo(`fiber ${spec.name} stands by: ${refusal.message}`)
                } else if (refusal._tag === "LeaseUnavailable" && told !== "unavailable") {
                  told = "unavailable"
                  yield* Effect.logWarning(
                    `fiber ${spec.name} stands by: its lease cannot be taken (${refusal.message}); trying again`
                  )
                }
              })
            const grant = yield* leases.acquire(spec.name, refused)
            update(spec.name, { state: "running", leaseHolder: leases.holder })
            leaseHeld.set({ fiber: spec.name }, 1)
            yield* triedOnce
            if (told !== undefined) yield* Effect.logInfo(`fiber ${spec.name} took its lease over and runs here`)
            yield* leases
              .hold(grant, spec.run(heartbeat))
              .pipe(Effect.ensuring(Effect.sync(() => leaseHeld.set({ fiber: spec.name }, 0))))
          })

        const startFiber = <R>(spec: FiberSpec<R>): Effect.Effect<void, never, R | Scope.Scope | SqlClient.SqlClient> =>
          Effect.gen(function* () {
            if (table.has(spec.name)) return yield* Effect.die(new Error(`fiber ${spec.name} is already supervised`))
            if (spec.essential === true && spec.replicas === "one")
              return yield* Effect.die(
                new Error(
                  `fiber ${spec.name} is essential and "one": a command cannot wait for another replica's lease`
                )
              )
            const leases = spec.replicas === "one" ? yield* Leases.make({ holder, ...leaseTimingOption }) : undefined
            const now = yield* Clock.currentTimeMillis
            table.set(spec.name, {
              name: spec.name,
              replicas: spec.replicas,
              state: leases === undefined ? "running" : "standby",
              restarts: 0,
              startedAt: now,
              lastSuccessAt: undefined,
              lastFailure: undefined,
              nextRestartAt: undefined,
              leaseHolder: undefined
            })
            restartsTotal.inc({ fiber: spec.name }, 0)
            if (leases !== undefined) leaseHeld.set({ fiber: spec.name }, 0)
            const initial = spec.backoff?.initial ?? "1 second"
            const max = spec.backoff?.max ?? "60 seconds"
            let failures = 0
            const heartbeat = Effect.gen(function* () {
              const at = yield* Clock.currentTimeMillis
              failures = 0
              update(spec.name, { lastSuccessAt: at })
              lastSuccess.set({ fiber: spec.name }, at / 1000)
            })
            const firstTry = yield* Deferred.make<void>()
            const triedOnce = Deferred.succeed(firstTry, undefined)
            const attempt =
              leases === undefined
                ? Effect.suspend(() => {
                    update(spec.name, { state: "running", nextRestartAt: undefined })
                    return spec.run(heartbeat)
                  })
                : underLease(spec, leases, heartbeat, triedOnce)
            const loop = Effect.gen(function* () {
              while (true) {
                const exit = yield* Effect.exit(attempt)
                yield* triedOnce
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
                Effect.ensuring(
                  Effect.sync(() => {
                    table.delete(spec.name)
                    if (leases !== undefined) leaseHeld.set({ fiber: spec.name }, 0)
                  })
                )
              )
            )
            if (leases !== undefined) yield* Deferred.await(firstTry)
          })

        return Supervisor.of({
          // The cast states what `startFiber` does: only a "one" fiber reaches `Leases.make`, the
          // one place that reads the SQL client, so an "each" fiber needs nothing beyond its own.
          start: startFiber as SupervisorShape["start"],
          statuses: Effect.sync(() => [...table.values()].sort((a, b) => a.name.localeCompare(b.name))),
          holder
        })
      })
    )

  static readonly layer = Supervisor.layerWith()
}
