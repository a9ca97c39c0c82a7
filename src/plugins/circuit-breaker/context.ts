/**
 * What the breaker's parts share within one process: the services, the snapshot readers are
 * answered from, trips waiting for the database, the metrics, and how a committed change is
 * remembered, handed to local streams and published.
 */
import { Clock, Effect, PubSub } from "effect"
import { SqlClient } from "effect/sql"
import { Audit } from "../../core/audit/audit.ts"
import { StoresUnhealthy } from "../../core/contracts/circuit-breaker/errors.ts"
import {
  type BreakerChange,
  type BreakerRecord,
  GLOBAL_SCOPE,
  type Transition
} from "../../core/contracts/circuit-breaker/model.ts"
import type { TripInput } from "../../core/contracts/circuit-breaker/service.ts"
import { Metrics } from "../../core/observability/metrics.ts"
import { SharedState } from "../../core/redis/shared-state.ts"
import { Settings } from "../../core/settings/service.ts"
import { changeKey, publishTransition } from "./publication.ts"
import type { Known } from "./reading.ts"
import { currentSettings } from "./settings.ts"

/** How long a database round trip may take before the breaker treats the database as down. */
export const DATABASE_TIMEOUT = "2 seconds"

/** A trip accepted while the database was down, waiting to be written to it. */
export interface PendingTrip {
  readonly input: TripInput
  readonly at: number
}

export const makeBreakerContext = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const audit = yield* Audit
  const shared = yield* SharedState
  const metrics = yield* Metrics
  const changes = yield* PubSub.sliding<BreakerChange>(4096)

  const stateGauge = metrics.gauge({
    name: "cb_state",
    help: "Circuit breaker state by scope: 0 open, 1 tripped, 2 quiet period.",
    labelNames: ["scope"]
  })
  const trips = metrics.counter({
    name: "cb_trips_total",
    help: "Breaker trips by scope and source (manual, automatic).",
    labelNames: ["scope", "source"]
  })
  const resets = metrics.counter({
    name: "cb_resets_total",
    help: "Breaker resets by scope.",
    labelNames: ["scope"]
  })
  const statusChecks = metrics.counter({
    name: "cb_status_checks_total",
    help: "Reads of the breaker state (API, console, CLI)."
  })

  const known = new Map<string, Known>()
  const lastVerified = new Map<string, number>()
  const pendingTrips: Array<PendingTrip> = []
  const seen = new Set<string>()
  /** Scopes whose publication by this process is on its way to the store (how many at once). */
  const publishing = new Map<string, number>()
  const startedAt = yield* Clock.currentTimeMillis
  // Computed when scraped, not set by the verifier: a verifier that hangs (not only one that
  // fails) must show as rising staleness, or the alert on it would never fire.
  const clock = yield* Clock.Clock
  metrics.gauge({
    name: "cb_staleness_seconds",
    help: "Seconds since the breaker state of a scope was last verified (truth read and published copy checked).",
    labelNames: ["scope"],
    collect() {
      const now = clock.currentTimeMillisUnsafe()
      for (const scope of new Set([GLOBAL_SCOPE, ...known.keys()]))
        this.set({ scope }, (now - (lastVerified.get(scope) ?? startedAt)) / 1000)
    }
  })

  const inDatabase = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
    effect.pipe(Effect.provideService(SqlClient.SqlClient, sql))
  const transaction = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
    inDatabase(sql.withTransaction(effect))

  const stateValue = { OPEN: 0, TRIPPED: 1, QUIET_PERIOD: 2 } as const
  /**
   * What readers are told of a scope from now on. `pending`: a trip not yet in PostgreSQL;
   * `unsettled`: why PostgreSQL refused it (it then stays tripped until a reset settles it).
   */
  const remember = (record: BreakerRecord, now: number, pending = false, unsettled?: string) => {
    const current = known.get(record.scope)
    // A late echo of an older version never overwrites a newer one.
    if (current !== undefined && current.record.version > record.version && !current.pending) return
    known.set(record.scope, { record, confirmedAt: now, pending, ...(unsettled === undefined ? {} : { unsettled }) })
    stateGauge.set({ scope: record.scope }, stateValue[record.state])
  }

  /**
   * A scope held tripped in memory by a trip that is not in PostgreSQL (queued, or refused by it):
   * the truth read from PostgreSQL must not overwrite it, or readers would see it open.
   */
  const held = (scope: string): Known | undefined => {
    const entry = known.get(scope)
    return entry?.pending === true ? entry : undefined
  }
  /** The held scope stays as it is, confirmed again (it is the fail-closed answer). */
  const confirmHeld = (entry: Known, now: number) => known.set(entry.record.scope, { ...entry, confirmedAt: now })

  /** Hands a change to local streams once, whether it came from here or from the channel. */
  const deliver = (change: BreakerChange) => {
    const key = changeKey(change)
    if (seen.has(key)) return
    seen.add(key)
    if (seen.size > 10_000) seen.delete(seen.values().next().value ?? key)
    PubSub.publishUnsafe(changes, change)
  }

  /** Publishes a committed change: the record's key, then the change message. */
  const announce = (change: BreakerChange, record: BreakerRecord) => {
    deliver(change)
    const scope = record.scope
    return Effect.suspend(() => {
      publishing.set(scope, (publishing.get(scope) ?? 0) + 1)
      return publishTransition(shared, record, change)
    }).pipe(
      Effect.as(true),
      Effect.catchTag("StoreUnavailable", (e) =>
        Effect.as(Effect.logWarning(`breaker state not published (the verifier will retry): ${e.message}`), false)
      ),
      Effect.ensuring(
        Effect.sync(() => {
          const left = (publishing.get(scope) ?? 1) - 1
          if (left > 0) publishing.set(scope, left)
          else publishing.delete(scope)
        })
      )
    )
  }

  const settingsService = yield* Settings
  const settings = Effect.provideService(currentSettings, Settings, settingsService)

  /** Remembers a committed transition and publishes it. */
  const afterCommit = (record: BreakerRecord, transition: Transition, now: number) =>
    Effect.suspend(() => {
      remember(record, now)
      return announce({ type: "transition", transition, record }, record)
    })

  const storesHealthy = Effect.gen(function* () {
    if (pendingTrips.length > 0)
      return yield* new StoresUnhealthy({
        message: "a trip accepted while the database was down has not been written to it yet: reset refused",
        details: { store: "postgresql" }
      })
    yield* shared.ping.pipe(
      Effect.mapError(
        (e) =>
          new StoresUnhealthy({
            message: `the published state (Redis) is unreachable: reset refused (${e.message})`,
            details: { store: "redis" }
          })
      )
    )
  })

  return {
    sql,
    audit,
    shared,
    changes,
    gauges: { stateGauge, trips, resets, statusChecks },
    known,
    lastVerified,
    publishing,
    pendingTrips,
    startedAt,
    inDatabase,
    transaction,
    remember,
    held,
    confirmHeld,
    deliver,
    announce,
    afterCommit,
    settings,
    storesHealthy
  }
})

export type BreakerContext = Effect.Success<typeof makeBreakerContext>
