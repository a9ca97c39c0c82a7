/**
 * Trips. A trip is always accepted: in the database with its history row and audit entry (in one
 * statement from the known state, or with the row locked when that state moved, so it cannot
 * lose a race), or, with the database down, published at once and queued;
 * `reconcilePending` writes the queue when the database answers again.
 */
import { randomUUID } from "node:crypto"
import { Clock, Effect, Option } from "effect"
import type { AuditEntryInput } from "../audit/entry.ts"
import type { BreakerContext } from "./context.ts"
import { DATABASE_TIMEOUT } from "./context.ts"
import { ScopeNotFound } from "./errors.ts"
import type { BreakerRecord, Transition } from "./model.ts"
import { readPublished } from "./publication.ts"
import type { TripInput, TripOutcome } from "./service.ts"
import * as Store from "./store.ts"
import { blankRecord, tripped } from "./transitions.ts"

export const makeTrips = (ctx: BreakerContext) => {
  const { sql, audit, shared, known, pendingTrips, inDatabase, remember, announce, afterCommit } = ctx
  const trips = ctx.gauges.trips

  const tripEntry = (
    input: TripInput,
    record: BreakerRecord,
    changed: boolean,
    extra: Record<string, unknown>
  ): AuditEntryInput => ({
    actor: input.actor,
    action: "breaker.trip",
    resourceType: "breaker",
    resourceId: input.scope,
    outcome: "success",
    reason: input.reason,
    // The caller's details first: they must not overwrite what the breaker itself records.
    details: { ...input.details, ...extra, source: input.source, version: record.version, repeated: !changed }
  })

  /**
   * The usual trip, in one round trip: from the state this process knows, compare-and-set with
   * its history row and audit entry in one statement. `undefined` when that state is tripped,
   * pending or has moved on: the locked path then decides.
   */
  const tripFromSnapshot = (input: TripInput, now: number) =>
    Effect.gen(function* () {
      const current = known.get(input.scope)
      if (current === undefined || current.pending || current.record.state === "TRIPPED") return undefined
      const before = current.record
      const record = tripped(before, input, now, now)
      const entry = yield* audit.forStatement(tripEntry(input, record, true, {}))
      const transition = yield* Store.tripInOneStatement(
        record,
        before.version,
        { from_state: before.state, details: { ...input.details }, at: new Date(now).toISOString() },
        entry.rowsJson
      )
      if (transition === undefined) return undefined
      yield* entry.committed
      return { record, transition, changed: true }
    }).pipe(inDatabase, Effect.timeout(DATABASE_TIMEOUT))

  /** The trip in the database; `at` is when it was accepted (earlier when reconciled later). */
  const tripInDatabase = (input: TripInput, at: number, extra: Record<string, unknown> = {}) =>
    Effect.gen(function* () {
      const now = yield* Clock.currentTimeMillis
      const before = yield* Store.readScope(input.scope, now, true)
      if (before === undefined) return yield* new ScopeNotFound({ message: `there is no breaker scope ${input.scope}` })
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
      yield* audit.recordInTransaction(tripEntry(input, record, changed, extra))
      return { record, transition, changed }
    }).pipe(sql.withTransaction, inDatabase, Effect.timeout(DATABASE_TIMEOUT))

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
    const attempt = yield* Effect.exit(
      Effect.flatMap(tripFromSnapshot(input, now), (done) =>
        done === undefined ? tripInDatabase(input, now) : Effect.succeed(done)
      )
    )
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

  return { trip, tripInDatabase, reconcilePending }
}
