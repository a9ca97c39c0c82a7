/**
 * The circuit breaker service. PostgreSQL is written first (the transition, its history row and
 * its audit entry in one transaction, compare-and-set on the version), then the record is
 * published. Readers are answered from memory, confirmed every second by the verifier, and get
 * `UNKNOWN` when it could not be confirmed (fail closed). A trip is accepted even with the
 * database down: it is published at once and written to the database when it returns.
 * The parts: `context.ts` (shared state), `trips.ts`, `resets.ts`, `verifier.ts`.
 */
import { Clock, Context, Effect, Layer, Stream } from "effect"
import type { Actor } from "../../core/audit/entry.ts"
import { ScopeExists, ScopeNotFound } from "../../core/contracts/circuit-breaker/errors.ts"
import { type BreakerSettings, type BreakerView, GLOBAL_SCOPE } from "../../core/contracts/circuit-breaker/model.ts"
import { CircuitBreaker } from "../../core/contracts/circuit-breaker/service.ts"
import { Settings } from "../../core/settings/service.ts"
import type { FiberSpec } from "../../core/supervisor.ts"
import { makeBreakerContext } from "./context.ts"
import { databaseErrors } from "./guards.ts"
import { publishChange } from "./publication.ts"
import { type Known, UNKNOWN_AFTER_MS, unknownView, viewOf } from "./reading.ts"
import * as Requests from "./reset-request-store.ts"
import { makeResets } from "./resets.ts"
import { changeSettings } from "./settings.ts"
import * as Store from "./store.ts"
import { makeTrips } from "./trips.ts"
import { makeVerifier } from "./verifier.ts"

/** Longer than any pass's own database and Redis timeouts added up in the usual case. */
const PASS_TIMEOUT = "10 seconds"

/**
 * The breaker's private service for its fibers: the change listener, which only the
 * `breaker.listener` fiber runs.
 */
export class BreakerListener extends Context.Service<
  BreakerListener,
  { readonly listen: (heartbeat: Effect.Effect<void>) => Effect.Effect<void, unknown> }
>()("breakwater/BreakerListener") {}

/** The breaker service and its listener; its fibers are declared by the module (below). */
export const CircuitBreakerLive = Layer.effectContext(
  Effect.gen(function* () {
    const ctx = yield* makeBreakerContext
    const { audit, shared, known, inDatabase, transaction, remember, deliver, announce, settings } = ctx
    const { statusChecks, resets } = ctx.gauges
    const clock = yield* Clock.Clock
    const trips = makeTrips(ctx)
    const { verifyOnce, listen } = makeVerifier(ctx, trips)

    const { reset, approve } = makeResets({
      audit,
      unsettled: (scope) => {
        const entry = known.get(scope)
        return entry?.unsettled === undefined ? undefined : { record: entry.record, problem: entry.unsettled }
      },
      storesHealthy: ctx.storesHealthy,
      transaction,
      settings,
      onCommitted: (record, change, now) =>
        Effect.suspend(() => {
          if (change.type === "transition" && change.transition.kind === "reset") resets.inc({ scope: record.scope })
          remember(record, now)
          return Effect.asVoid(announce(change, record))
        }),
      onRequested: (change) =>
        Effect.asVoid(
          Effect.suspend(() => {
            deliver(change)
            return publishChange(shared, change).pipe(Effect.catchTag("StoreUnavailable", () => Effect.void))
          })
        )
    })

    const list = Effect.gen(function* () {
      statusChecks.inc()
      const now = yield* Clock.currentTimeMillis
      const global = known.get(GLOBAL_SCOPE)
      const scopes = [GLOBAL_SCOPE, ...[...known.keys()].filter((s) => s !== GLOBAL_SCOPE).sort()]
      return scopes.map((scope) => viewOf(scope, known.get(scope), global, now))
    })

    const views = new Map<string, { entry: Known; global: Known | undefined; view: BreakerView; until: number }>()
    const readNow = (scope: string): BreakerView | undefined => {
      const entry = known.get(scope)
      if (entry === undefined) return undefined
      statusChecks.inc()
      const now = clock.currentTimeMillisUnsafe()
      const global = known.get(GLOBAL_SCOPE)
      const cached = views.get(scope)
      if (cached !== undefined && cached.entry === entry && cached.global === global && now <= cached.until)
        return cached.view
      const view = viewOf(scope, entry, global, now)
      // The view holds until either confirmation ages out (then it reads UNKNOWN).
      const until = Math.min(entry.confirmedAt, global?.confirmedAt ?? entry.confirmedAt) + UNKNOWN_AFTER_MS
      views.set(scope, { entry, global, view, until })
      return view
    }

    const read = (scope: string) =>
      Effect.gen(function* () {
        statusChecks.inc()
        const now = yield* Clock.currentTimeMillis
        const global = known.get(GLOBAL_SCOPE)
        const entry = known.get(scope)
        if (entry === undefined && global !== undefined && now - global.confirmedAt <= UNKNOWN_AFTER_MS)
          return yield* new ScopeNotFound({ message: `there is no breaker scope ${scope}` })
        return entry === undefined
          ? unknownView(scope, "the breaker state cannot be read: treat as tripped")
          : viewOf(scope, entry, global, now)
      })

    const createScope = Effect.fn("CircuitBreaker.createScope")(function* (scope: string, actor: Actor) {
      const now = yield* Clock.currentTimeMillis
      const record = yield* transaction(
        Effect.gen(function* () {
          const created = yield* Store.insertScope(scope, now)
          yield* audit.recordInTransaction({
            actor,
            action: "breaker.scope_create",
            resourceType: "breaker",
            resourceId: scope,
            outcome: "success"
          })
          return created
        })
      ).pipe(
        Effect.catchReason("SqlError", "UniqueViolation", () =>
          Effect.fail(new ScopeExists({ message: `the breaker scope ${scope} exists` }))
        ),
        databaseErrors
      )
      remember(record, now)
      yield* announce({ type: "scope_created", record }, record)
      return record
    })

    const history = (scope: string, page: { readonly limit: number; readonly before?: string }) =>
      Effect.gen(function* () {
        // Scopes are never deleted: one this process knows exists; another may be new (another replica's).
        const exists =
          known.has(scope) || (yield* inDatabase(Store.readScope(scope, yield* Clock.currentTimeMillis))) !== undefined
        if (!exists) return yield* new ScopeNotFound({ message: `there is no breaker scope ${scope}` })
        return yield* inDatabase(Store.readHistory(scope, page.limit, page.before))
      }).pipe(databaseErrors)

    const settingsService = yield* Settings
    const updateSettings = Effect.fn("CircuitBreaker.updateSettings")(
      (change: Partial<BreakerSettings>, actor: Actor) =>
        Effect.provideService(changeSettings(change, actor), Settings, settingsService)
    )

    // Read the truth once before serving, so a healthy start never reports UNKNOWN.
    yield* verifyOnce
    const breaker = CircuitBreaker.of({
      list,
      readNow,
      read,
      trip: trips.trip,
      reset,
      approve,
      pendingApprovals: (scope) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) => inDatabase(Requests.readPending(scope, now))).pipe(
          databaseErrors
        ),
      history,
      createScope,
      settings: settings.pipe(databaseErrors),
      updateSettings,
      changes: Stream.fromPubSub(ctx.changes),
      verifyOnce
    })
    return Context.make(CircuitBreaker, breaker).pipe(Context.add(BreakerListener, { listen }))
  })
)

/** Confirms the state every second (the fail-closed reading depends on it). */
export const verifierFiber: FiberSpec<CircuitBreaker> = {
  name: "breaker.verifier",
  replicas: "each",
  run: (heartbeat) =>
    Effect.flatMap(CircuitBreaker, ({ verifyOnce }) =>
      verifyOnce.pipe(
        // A pass stuck on a call is abandoned; the next one starts a second later.
        Effect.timeout(PASS_TIMEOUT),
        Effect.matchEffect({
          onFailure: () => Effect.logWarning(`breaker: a verifier pass took over ${PASS_TIMEOUT}, abandoned`),
          onSuccess: () => heartbeat
        }),
        Effect.andThen(Effect.sleep("1 second")),
        Effect.forever
      )
    )
}

/** Applies changes announced by other replicas (and by this one's other paths) as they come. */
export const listenerFiber: FiberSpec<BreakerListener> = {
  name: "breaker.listener",
  replicas: "each",
  run: (heartbeat) => Effect.flatMap(BreakerListener, ({ listen }) => listen(heartbeat))
}
