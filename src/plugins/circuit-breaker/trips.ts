/**
 * Trips. A trip is always accepted: in the database with its history row and audit entry (in one
 * statement from the known state, or with the row locked when that state moved, so it cannot
 * lose a race), or, with the database down, published at once and queued;
 * `reconcilePending` writes the queue when the database answers again.
 */
import { randomUUID } from "node:crypto"
import { Cause, Clock, Effect, Option } from "effect"
import type { AuditEntryInput } from "../../core/audit/entry.ts"
import { ScopeNotFound } from "../../core/contracts/circuit-breaker/errors.ts"
import type { BreakerRecord, Transition } from "../../core/contracts/circuit-breaker/model.ts"
import type { TripInput, TripOutcome } from "../../core/contracts/circuit-breaker/service.ts"
import { isDatabaseDown } from "../../core/db/outage.ts"
import { sqlErrorDetail } from "../../core/db/sql-error.ts"
import { storableText } from "../../core/json-bounds.ts"
import type { BreakerContext } from "./context.ts"
import { DATABASE_TIMEOUT } from "./context.ts"
import { readPublished } from "./publication.ts"
import * as Requests from "./reset-request-store.ts"
import * as Store from "./store.ts"
import { blankRecord, tripped } from "./transitions.ts"

/** Why the database refused a statement, or undefined when it was down (or the failure is not its). */
const refusal = (cause: Cause.Cause<unknown>): string | undefined => {
  const failure = cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined && isDatabaseDown(failure.error)) return undefined
  const error = failure?.error ?? Cause.squash(cause)
  return `the database refused it: ${sqlErrorDetail(error).slice(0, 200)}`
}

/** A trip in the form the database must take, for a second attempt after a refusal. */
const storableTrip = (input: TripInput, refused: string): TripInput => ({
  ...input,
  reason: storableText(input.reason),
  details: { withheld: storableText(`the trip's details could not be stored (${refused})`) },
  actor: { ...input.actor, id: storableText(input.actor.id), name: storableText(input.actor.name) }
})

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
      if (changed) yield* Requests.supersedeRequests(input.scope, undefined)
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
    const failure = attempt.cause.reasons.find(Cause.isFailReason)
    if (failure !== undefined && failure.error instanceof ScopeNotFound) return yield* failure.error
    // Only a database that cannot be reached sends the trip down the no-database path. One that
    // answered and refused the statement is a bug (input is checked at the boundary): 500.
    if (failure === undefined || !isDatabaseDown(failure.error)) return yield* Effect.die(Cause.squash(attempt.cause))
    yield* Effect.logWarning("breaker trip could not be written to the database", attempt.cause)
    trips.inc({ scope: input.scope, source: input.source })
    return yield* tripWithoutDatabase(input, now)
  })

  const reconciledExtra = (at: number) => ({
    accepted_while_database_down: true,
    accepted_at: new Date(at).toISOString()
  })

  /**
   * Writes a trip accepted while the database was down. Refused by the database (not merely
   * unreachable), it is written once more in a form it must take (text made storable, details
   * withheld); refused again, it is `unsettled`: its scope stays tripped for every reader, the
   * problem is logged at error level and shown, and a reset settles it.
   */
  const writeAccepted = (input: TripInput, at: number, extra: Record<string, unknown>) =>
    Effect.gen(function* () {
      const first = yield* Effect.exit(tripInDatabase(input, at, extra))
      if (first._tag === "Success") return { _tag: "Written", ...first.value } as const
      const refused = refusal(first.cause)
      if (refused === undefined) return { _tag: "Down", cause: first.cause } as const
      const second = yield* Effect.exit(
        tripInDatabase(storableTrip(input, refused), at, { ...extra, original_refused: refused })
      )
      if (second._tag === "Success") return { _tag: "Written", ...second.value } as const
      const refusedAgain = refusal(second.cause)
      if (refusedAgain === undefined) return { _tag: "Down", cause: second.cause } as const
      return { _tag: "Refused", problem: refusedAgain, cause: second.cause } as const
    })

  /** Marks a trip the database will not take: its scope stays tripped until a reset settles it. */
  const settleLater = (record: BreakerRecord, problem: string, cause: Cause.Cause<unknown>) =>
    Effect.gen(function* () {
      remember(record, yield* Clock.currentTimeMillis, true, problem)
      yield* Effect.logError(
        `breaker ${record.scope}: an accepted trip cannot be written to the database (${problem}); the scope stays tripped until an operator resets it`,
        cause
      )
    })

  /** Writes the trips accepted while the database was down, oldest first. */
  const reconcilePending = Effect.gen(function* () {
    let done = 0
    while (pendingTrips.length > 0) {
      const next = pendingTrips[0]!
      const written = yield* writeAccepted(next.input, next.at, reconciledExtra(next.at))
      if (written._tag === "Down") {
        yield* Effect.logWarning("breaker: reconciling a trip failed, retrying next pass", written.cause)
        break
      }
      pendingTrips.shift()
      const now = yield* Clock.currentTimeMillis
      if (written._tag === "Refused") {
        const record =
          known.get(next.input.scope)?.record ?? tripped(blankRecord(next.input.scope, now), next.input, next.at, now)
        yield* settleLater(record, written.problem, written.cause)
        continue
      }
      done++
      yield* afterCommit(written.record, written.transition, now)
    }
    return done
  })

  return { trip, writeAccepted, settleLater, reconcilePending }
}
