/**
 * The circuit breaker service. PostgreSQL is written first (the transition, its history row and
 * its audit entry in one transaction, compare-and-set on the version), then the record is
 * published. Readers are answered from memory, confirmed every second by the verifier, and get
 * `UNKNOWN` when it could not be confirmed (fail closed). A trip is accepted even with the
 * database down: it is published at once and written to the database when it returns.
 */
import { randomUUID } from "node:crypto"
import { Clock, Effect, Layer, Option, PubSub, Schema, Stream } from "effect"
import { SqlClient } from "effect/sql"
import { Audit } from "../audit/audit.ts"
import type { Actor } from "../audit/entry.ts"
import { Metrics } from "../observability/metrics.ts"
import { SharedState } from "../redis/shared-state.ts"
import { Supervisor } from "../supervisor.ts"
import { ScopeExists, ScopeNotFound, StoresUnhealthy } from "./errors.ts"
import { databaseErrors } from "./guards.ts"
import {
  type BreakerChange,
  type BreakerRecord,
  BreakerSettings,
  CHANGES_CHANNEL,
  DEFAULT_SETTINGS,
  GLOBAL_SCOPE,
  type Transition
} from "./model.ts"
import { changeKey, decodeChange, publishChange, publishRecord, readPublished, recordJson } from "./publication.ts"
import { type Known, unknownView, viewOf } from "./reading.ts"
import { makeResets } from "./resets.ts"
import { CircuitBreaker, type TripInput, type TripOutcome, type VerificationReport } from "./service.ts"
import * as Store from "./store.ts"
import { blankRecord, quietEnded, tripped } from "./transitions.ts"

/** How long a database round trip may take before the breaker treats the database as down. */
const DATABASE_TIMEOUT = "2 seconds"
const decodeSettings = Schema.decodeUnknownOption(BreakerSettings)

/** A trip accepted while the database was down, waiting to be written to it. */
interface PendingTrip {
  readonly input: TripInput
  readonly at: number
}

export interface BreakerOptions {
  /**
   * Start the verifier (every second) and the change listener as supervised fibers. Off only in
   * tests that drive `verifyOnce` themselves under TestClock.
   */
  readonly fibers: boolean
}

export const makeCircuitBreakerLayer = (options: BreakerOptions) =>
  Layer.effect(
    CircuitBreaker,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const audit = yield* Audit
      const shared = yield* SharedState
      const metrics = yield* Metrics
      const supervisor = yield* Supervisor
      const changes = yield* PubSub.sliding<BreakerChange>(4096)

      const stateGauge = metrics.gauge({
        name: "cb_state",
        help: "Circuit breaker state by scope: 0 open, 1 tripped, 2 quiet period.",
        labelNames: ["scope"]
      })
      const staleness = metrics.gauge({
        name: "cb_staleness_seconds",
        help: "Seconds since the breaker state of a scope was last verified (truth read and published copy checked).",
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
      const startedAt = yield* Clock.currentTimeMillis

      const inDatabase = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
        effect.pipe(Effect.provideService(SqlClient.SqlClient, sql))
      const transaction = <A, E>(effect: Effect.Effect<A, E, SqlClient.SqlClient>) =>
        inDatabase(sql.withTransaction(effect))

      const stateValue = { OPEN: 0, TRIPPED: 1, QUIET_PERIOD: 2 } as const
      const remember = (record: BreakerRecord, now: number, pending = false) => {
        const current = known.get(record.scope)
        // A late echo of an older version never overwrites a newer one.
        if (current !== undefined && current.record.version > record.version && !current.pending) return
        known.set(record.scope, { record, confirmedAt: now, pending })
        stateGauge.set({ scope: record.scope }, stateValue[record.state])
      }

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
        return publishRecord(shared, record).pipe(
          Effect.andThen(publishChange(shared, change)),
          Effect.as(true),
          Effect.catchTag("StoreUnavailable", (e) =>
            Effect.as(Effect.logWarning(`breaker state not published (the verifier will retry): ${e.message}`), false)
          )
        )
      }

      const settings = Effect.gen(function* () {
        const stored = yield* inDatabase(Store.readSettings)
        const merged = { ...DEFAULT_SETTINGS, ...stored }
        return Option.getOrElse(decodeSettings(merged), () => DEFAULT_SETTINGS)
      })

      const tripAudit = (input: TripInput, record: BreakerRecord, changed: boolean, extra: Record<string, unknown>) =>
        audit.recordInTransaction({
          actor: input.actor,
          action: "breaker.trip",
          resourceType: "breaker",
          resourceId: input.scope,
          outcome: "success",
          reason: input.reason,
          // The caller's details first: they must not overwrite what the breaker itself records.
          details: { ...input.details, ...extra, source: input.source, version: record.version, repeated: !changed }
        })

      /** The trip in the database; `at` is when it was accepted (earlier when reconciled later). */
      const tripInDatabase = (input: TripInput, at: number, extra: Record<string, unknown> = {}) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const before = yield* Store.lockScope(input.scope, now)
          if (before === undefined)
            return yield* new ScopeNotFound({ message: `there is no breaker scope ${input.scope}` })
          const changed = before.state !== "TRIPPED"
          // Tripping a tripped breaker records the reason but keeps the trip (and its time) as is.
          const record = changed ? tripped(before, input, at, now) : before
          if (changed && !(yield* Store.compareAndSet(record, before.version)))
            return yield* Effect.die(new Error(`breaker ${input.scope} changed under its row lock`))
          if (changed) yield* Store.supersedeRequests(input.scope, undefined)
          const transition = yield* Store.appendTransition({
            scope: input.scope,
            kind: changed ? "trip" : "trip_repeated",
            from_state: before.state,
            to_state: "TRIPPED",
            version: record.version,
            source: input.source,
            actor: input.actor,
            reason: input.reason,
            details: { ...input.details, ...extra },
            at: new Date(now).toISOString()
          })
          yield* tripAudit(input, record, changed, extra)
          return { record, transition, changed }
        }).pipe(sql.withTransaction, inDatabase, Effect.timeout(DATABASE_TIMEOUT))

      const afterCommit = (record: BreakerRecord, transition: Transition, now: number) =>
        Effect.suspend(() => {
          remember(record, now)
          return announce({ type: "transition", transition, record }, record)
        })

      /** With the database down: publish the trip now, write it when the database returns. */
      const tripWithoutDatabase = (input: TripInput, now: number) =>
        Effect.gen(function* () {
          const local = known.get(input.scope)?.record
          const published = Option.isNone(Option.fromNullishOr(local))
            ? yield* readPublished(shared, input.scope).pipe(
                Effect.map((p) => Option.flatMap(p, (x) => x.record)),
                Effect.orElseSucceed(() => Option.none<BreakerRecord>())
              )
            : Option.none<BreakerRecord>()
          const before = local ?? Option.getOrElse(published, () => blankRecord(input.scope, now))
          const changed = before.state !== "TRIPPED"
          const record = changed ? tripped(before, input, now, now) : before
          pendingTrips.push({ input, at: now })
          remember(record, now, true)
          const transition: Transition = {
            id: `pending-${randomUUID()}`,
            scope: input.scope,
            kind: changed ? "trip" : "trip_repeated",
            from_state: before.state,
            to_state: "TRIPPED",
            version: record.version,
            source: input.source,
            actor: input.actor,
            reason: input.reason,
            details: { ...input.details, accepted_while_database_down: true },
            at: new Date(now).toISOString()
          }
          const ok = yield* announce({ type: "transition", transition, record }, record)
          yield* Effect.logError(
            `breaker ${input.scope} tripped while the database is unreachable: published=${ok}, to be written to the database when it returns`
          )
          return { record, changed, persisted: false, published: ok } satisfies TripOutcome
        })

      const trip = Effect.fn("CircuitBreaker.trip")(function* (input: TripInput) {
        const now = yield* Clock.currentTimeMillis
        const attempt = yield* Effect.exit(tripInDatabase(input, now))
        if (attempt._tag === "Success") {
          const { record, transition, changed } = attempt.value
          if (changed) trips.inc({ scope: input.scope, source: input.source })
          const published = yield* afterCommit(record, transition, now)
          return { record, changed, persisted: true, published } satisfies TripOutcome
        }
        const failure = attempt.cause.reasons.find((r) => r._tag === "Fail")
        if (failure !== undefined && failure.error instanceof ScopeNotFound) return yield* failure.error
        yield* Effect.logWarning("breaker trip could not be written to the database", attempt.cause)
        trips.inc({ scope: input.scope, source: input.source })
        return yield* tripWithoutDatabase(input, now)
      })

      /** Writes the trips accepted while the database was down, oldest first. */
      const reconcilePending = Effect.gen(function* () {
        let done = 0
        while (pendingTrips.length > 0) {
          const next = pendingTrips[0]!
          const written = yield* Effect.exit(
            tripInDatabase(next.input, next.at, {
              accepted_while_database_down: true,
              accepted_at: new Date(next.at).toISOString()
            })
          )
          if (written._tag === "Failure") {
            // A scope deleted meanwhile cannot exist (scopes are never deleted); anything else: retry later.
            yield* Effect.logWarning("breaker: reconciling a trip failed, retrying next pass", written.cause)
            break
          }
          pendingTrips.shift()
          done++
          const now = yield* Clock.currentTimeMillis
          yield* afterCommit(written.value.record, written.value.transition, now)
        }
        return done
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

      const { reset, approve } = makeResets({
        audit,
        storesHealthy,
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

      /** QUIET_PERIOD → OPEN for every scope whose quiet period has passed. */
      const endQuietPeriods = (truth: ReadonlyArray<BreakerRecord>, now: number) =>
        Effect.forEach(
          truth.filter((r) => r.state === "QUIET_PERIOD" && r.quiet_until !== null && Date.parse(r.quiet_until) <= now),
          (before) =>
            Effect.gen(function* () {
              const actor: Actor = { type: "system", id: "system:breaker", name: "breaker" }
              const record = quietEnded(before, now)
              const written = yield* transaction(
                Effect.gen(function* () {
                  if (!(yield* Store.compareAndSet(record, before.version))) return undefined
                  const transition = yield* Store.appendTransition({
                    scope: before.scope,
                    kind: "quiet_period_ended",
                    from_state: "QUIET_PERIOD",
                    to_state: "OPEN",
                    version: record.version,
                    source: null,
                    actor,
                    reason: null,
                    details: { quiet_until: before.quiet_until },
                    at: new Date(now).toISOString()
                  })
                  yield* audit.recordInTransaction({
                    actor,
                    action: "breaker.quiet_period_ended",
                    resourceType: "breaker",
                    resourceId: before.scope,
                    outcome: "success",
                    details: { version: record.version }
                  })
                  return transition
                })
              )
              if (written === undefined) return Option.none<string>()
              yield* afterCommit(record, written, now)
              return Option.some(before.scope)
            }),
          { concurrency: 1 }
        ).pipe(Effect.map((opened) => opened.filter(Option.isSome).map((o) => o.value)))

      /** Compares each published record with the truth; a newer published trip is reconciled, not overwritten. */
      const checkPublished = (truth: ReadonlyArray<BreakerRecord>) =>
        Effect.gen(function* () {
          const repaired: Array<string> = []
          let reconciled = 0
          for (const record of truth) {
            const published = yield* readPublished(shared, record.scope)
            const copy = Option.flatMap(published, (p) => p.record)
            if (
              Option.isSome(copy) &&
              copy.value.state === "TRIPPED" &&
              copy.value.version > record.version &&
              record.state !== "TRIPPED"
            ) {
              // Another process published a trip while the database was down: write it, never undo it.
              const p = copy.value
              yield* tripInDatabase(
                {
                  scope: record.scope,
                  reason: p.trip_reason ?? "tripped while the database was unreachable",
                  details: p.trip_details ?? {},
                  source: p.trip_source ?? "manual",
                  actor: p.tripped_by ?? { type: "system", id: "system:unknown", name: "unknown" }
                },
                p.tripped_at === null ? Date.now() : Date.parse(p.tripped_at),
                { accepted_while_database_down: true, accepted_at: p.tripped_at }
              ).pipe(
                Effect.flatMap(({ record: r, transition }) =>
                  Effect.flatMap(Clock.currentTimeMillis, (now) => afterCommit(r, transition, now))
                ),
                Effect.orDie
              )
              reconciled++
              continue
            }
            if (Option.isNone(published) || published.value.raw !== recordJson(record)) {
              yield* publishRecord(shared, record)
              repaired.push(record.scope)
            }
          }
          return { repaired, reconciled }
        })

      const verifyOnce: Effect.Effect<VerificationReport> = Effect.gen(function* () {
        const now = yield* Clock.currentTimeMillis
        const read = Store.readScopes(now).pipe(inDatabase, Effect.timeout(DATABASE_TIMEOUT), Effect.exit)
        let truth = yield* read
        if (truth._tag === "Failure") {
          // The database is unreachable: the published copy still confirms what readers are told.
          for (const scope of new Set([GLOBAL_SCOPE, ...known.keys()])) {
            const copy = yield* readPublished(shared, scope).pipe(Effect.option)
            const record = Option.flatMap(Option.flatten(copy), (p) => p.record)
            if (Option.isSome(record)) remember(record.value, now, known.get(scope)?.pending ?? false)
          }
          setStaleness(now)
          return { truthRead: false, publishedChecked: false, repaired: [], reconciled: 0, opened: [] }
        }
        let reconciled = yield* reconcilePending
        if (reconciled > 0) truth = yield* read
        if (truth._tag === "Failure")
          return { truthRead: false, publishedChecked: false, repaired: [], reconciled, opened: [] }
        const checked = yield* Effect.exit(checkPublished(truth.value))
        const repaired = checked._tag === "Success" ? checked.value.repaired : []
        reconciled += checked._tag === "Success" ? checked.value.reconciled : 0
        const opened = yield* endQuietPeriods(truth.value, now).pipe(Effect.orElseSucceed(() => []))
        const latest = reconciled > 0 || opened.length > 0 ? yield* read : truth
        if (latest._tag === "Success") for (const record of latest.value) remember(record, now)
        if (checked._tag === "Success") for (const record of truth.value) lastVerified.set(record.scope, now)
        else yield* Effect.logWarning("breaker: the published copy could not be checked", checked.cause)
        setStaleness(now)
        return { truthRead: true, publishedChecked: checked._tag === "Success", repaired, reconciled, opened }
      })

      const setStaleness = (now: number) => {
        for (const scope of new Set([GLOBAL_SCOPE, ...known.keys()]))
          staleness.set({ scope }, (now - (lastVerified.get(scope) ?? startedAt)) / 1000)
      }

      /** Changes published by other replicas (and the echo of ours, which `deliver` drops). */
      const listen = (heartbeat: Effect.Effect<void>) =>
        shared.subscribe(CHANGES_CHANNEL).pipe(
          Stream.runForEach((message) =>
            Effect.gen(function* () {
              const change = decodeChange(message)
              if (Option.isNone(change)) return yield* Effect.logWarning("breaker: ignored a malformed change message")
              if (change.value.type !== "reset_requested") remember(change.value.record, yield* Clock.currentTimeMillis)
              deliver(change.value)
              yield* heartbeat
            })
          )
        )

      const list = Effect.gen(function* () {
        statusChecks.inc()
        const now = yield* Clock.currentTimeMillis
        const global = known.get(GLOBAL_SCOPE)
        const scopes = [GLOBAL_SCOPE, ...[...known.keys()].filter((s) => s !== GLOBAL_SCOPE).sort()]
        return scopes.map((scope) => viewOf(scope, known.get(scope), global, now))
      })

      const read = (scope: string) =>
        Effect.gen(function* () {
          statusChecks.inc()
          const now = yield* Clock.currentTimeMillis
          const global = known.get(GLOBAL_SCOPE)
          const entry = known.get(scope)
          if (entry === undefined && global !== undefined && now - global.confirmedAt <= 5_000)
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
          Effect.catchTag("SqlError", (e) =>
            Effect.fail(
              new StoresUnhealthy({ message: `the database could not be written: ${e.message}`, details: {} })
            )
          )
        )
        remember(record, now)
        yield* announce({ type: "scope_created", record }, record)
        return record
      })

      const history = (scope: string, page: { readonly limit: number; readonly before?: string }) =>
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const exists = yield* inDatabase(Store.readScope(scope, now))
          if (exists === undefined) return yield* new ScopeNotFound({ message: `there is no breaker scope ${scope}` })
          return yield* inDatabase(Store.readHistory(scope, page.limit, page.before))
        }).pipe(databaseErrors)

      const updateSettings = Effect.fn("CircuitBreaker.updateSettings")(function* (
        change: Partial<BreakerSettings>,
        actor: Actor
      ) {
        const now = yield* Clock.currentTimeMillis
        return yield* transaction(
          Effect.gen(function* () {
            const before = yield* settings
            const after: BreakerSettings = { ...before, ...change }
            yield* Store.writeSettings(after, actor, now)
            yield* audit.recordInTransaction({
              actor,
              action: "breaker.settings_change",
              resourceType: "setting",
              resourceId: Store.SETTINGS_KEY,
              outcome: "success",
              details: { from: before, to: after }
            })
            return after
          })
        ).pipe(databaseErrors)
      })

      // Read the truth once before serving, so a healthy start never reports UNKNOWN.
      yield* verifyOnce
      if (options.fibers) {
        yield* supervisor.start({
          name: "breaker.verifier",
          run: (heartbeat) =>
            verifyOnce.pipe(Effect.andThen(heartbeat), Effect.andThen(Effect.sleep("1 second")), Effect.forever)
        })
        yield* supervisor.start({ name: "breaker.listener", run: listen })
      }

      return CircuitBreaker.of({
        list,
        read,
        trip,
        reset,
        approve,
        pendingApprovals: (scope) =>
          Effect.flatMap(Clock.currentTimeMillis, (now) => inDatabase(Store.readPending(scope, now))).pipe(
            databaseErrors
          ),
        history,
        createScope,
        settings: settings.pipe(databaseErrors),
        updateSettings,
        changes: Stream.fromPubSub(changes),
        verifyOnce
      })
    })
  )

export const CircuitBreakerLive = makeCircuitBreakerLayer({ fibers: true })
