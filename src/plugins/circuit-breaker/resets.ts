/**
 * Resets: refused while a store is unhealthy, only from TRIPPED, at most one per minute per scope,
 * compare-and-set on the version read (of many concurrent resets exactly one wins). With
 * `reset_approvals = 2` a reset is a request that a different operator approves within 15
 * minutes; a trip in between supersedes it.
 */
import { randomUUID } from "node:crypto"
import { Clock, Effect } from "effect"
import type { SqlClient } from "effect/sql"
import type { AuditShape } from "../../core/audit/audit.ts"
import { type Actor, personOf } from "../../core/audit/entry.ts"
import {
  ApprovalClosed,
  ApprovalNotFound,
  ApprovalRefused,
  NotTripped,
  ResetRateLimited,
  ScopeNotFound,
  type StoresUnhealthy,
  VersionConflict
} from "../../core/contracts/circuit-breaker/errors.ts"
import {
  APPROVAL_WINDOW_MINUTES,
  type BreakerChange,
  type BreakerRecord,
  type BreakerSettings,
  RESET_INTERVAL_SECONDS,
  type ResetRequest
} from "../../core/contracts/circuit-breaker/model.ts"
import type { ApproveInput, ResetInput, ResetOutcome } from "../../core/contracts/circuit-breaker/service.ts"
import { storableText } from "../../core/json-bounds.ts"
import { databaseErrors } from "./guards.ts"
import * as Requests from "./reset-request-store.ts"
import * as Store from "./store.ts"
import { resetTo } from "./transitions.ts"

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export interface ResetDeps {
  readonly audit: AuditShape
  readonly transaction: <A, E>(
    effect: Effect.Effect<A, E, SqlClient.SqlClient>
  ) => Effect.Effect<A, E | import("effect/sql").SqlError.SqlError>
  readonly storesHealthy: Effect.Effect<void, StoresUnhealthy>
  readonly settings: Effect.Effect<BreakerSettings, import("effect/sql").SqlError.SqlError>
  readonly onCommitted: (record: BreakerRecord, change: BreakerChange, now: number) => Effect.Effect<void>
  readonly onRequested: (change: BreakerChange) => Effect.Effect<void>
  /**
   * A scope held tripped by an accepted trip the database refused (see `trips.ts`): readers are
   * told this record; a reset settles it like any trip.
   */
  readonly unsettled: (scope: string) => { readonly record: BreakerRecord; readonly problem: string } | undefined
}

/** Refuses a change by nobody in particular where four-eyes needs a person. */
const namedPerson = (actor: Actor, what: string) =>
  personOf(actor) === undefined
    ? Effect.fail(
        new ApprovalRefused({
          message: `${what} needs a named person (a signed-in user, an API key acting for its owner, or the CLI with --as EMAIL)`
        })
      )
    : Effect.void

/**
 * The checks every reset (and approval) passes against the record it read. A scope held tripped
 * by an unsettled trip counts as tripped (at the version readers were told).
 */
const resettable = (
  before: BreakerRecord | undefined,
  scope: string,
  now: number,
  expected: number | undefined,
  unsettled: BreakerRecord | undefined
) =>
  Effect.gen(function* () {
    if (before === undefined) return yield* new ScopeNotFound({ message: `there is no breaker scope ${scope}` })
    if (before.state !== "TRIPPED" && unsettled === undefined)
      return yield* new NotTripped({
        message: `the breaker ${scope} is ${before.state}, not TRIPPED: nothing to reset`,
        details: { state: before.state, version: before.version }
      })
    const shown = unsettled?.version ?? before.version
    if (expected !== undefined && expected !== shown)
      return yield* new VersionConflict({
        message: `the breaker ${scope} is at version ${shown}, not ${expected}: read it again`,
        details: { version: shown }
      })
    const since = before.reset_at === null ? Number.POSITIVE_INFINITY : (now - Date.parse(before.reset_at)) / 1000
    if (since < RESET_INTERVAL_SECONDS)
      return yield* new ResetRateLimited({
        message: `the breaker ${scope} was reset ${Math.floor(since)} s ago: at most one reset per minute per scope`,
        retryAfterSeconds: RESET_INTERVAL_SECONDS - since
      })
    return before
  })

export const makeResets = (deps: ResetDeps) => {
  const { audit, transaction } = deps

  /** What a reset of a scope held by an unsettled trip records about that trip. */
  const settling = (scope: string): Record<string, unknown> => {
    const held = deps.unsettled(scope)
    if (held === undefined) return {}
    const r = held.record
    return {
      settles_unwritten_trip: {
        tripped_at: r.tripped_at,
        tripped_by: r.tripped_by === null ? null : storableText(r.tripped_by.name),
        reason: r.trip_reason === null ? null : storableText(r.trip_reason.slice(0, 2000)),
        problem: storableText(held.problem)
      }
    }
  }

  /** The reset itself, inside a transaction: compare-and-set, history, audit. */
  const applyReset = (
    before: BreakerRecord,
    actor: Actor,
    reason: string,
    now: number,
    details: Record<string, unknown>
  ) =>
    Effect.gen(function* () {
      const quiet = (yield* deps.settings).quiet_period_seconds
      // Over a held scope the new version follows the one readers were told, not the stored one.
      const shown = deps.unsettled(before.scope)?.record.version ?? before.version
      const record = resetTo({ ...before, version: Math.max(shown, before.version) }, actor, now, quiet)
      if (!(yield* Store.compareAndSet(record, before.version)))
        return yield* new VersionConflict({
          message: `another change to the breaker ${before.scope} won: read it again`,
          details: { version: before.version }
        })
      yield* Requests.supersedeRequests(
        before.scope,
        typeof details.request_id === "string" ? details.request_id : undefined
      )
      const transition = yield* Store.appendTransition({
        scope: before.scope,
        kind: "reset",
        from_state: "TRIPPED",
        to_state: record.state,
        version: record.version,
        source: null,
        actor,
        reason,
        details: { quiet_period_seconds: quiet, ...settling(before.scope), ...details },
        at: new Date(now).toISOString()
      })
      return { record, transition }
    })

  /** A refused reset is evidence too: an auditor sees who tried and why it was refused. */
  const auditRefusal = (actor: Actor, scope: string, action: string, reason: string) => (error: { message: string }) =>
    audit
      .record({
        actor,
        action,
        resourceType: "breaker",
        resourceId: scope,
        outcome: "failure",
        reason,
        details: { refused: error.message }
      })
      .pipe(Effect.ignore)

  const reset = Effect.fn("CircuitBreaker.reset")(function* (input: ResetInput) {
    yield* deps.storesHealthy
    const now = yield* Clock.currentTimeMillis
    const outcome = yield* transaction(
      Effect.gen(function* () {
        const before = yield* resettable(
          yield* Store.readScope(input.scope, now),
          input.scope,
          now,
          input.expectedVersion,
          deps.unsettled(input.scope)?.record
        )
        const settings = yield* deps.settings
        if (settings.reset_approvals === 2) {
          yield* namedPerson(input.actor, "a reset that another operator must approve")
          const request = yield* Requests.insertRequest({
            id: randomUUID(),
            scope: input.scope,
            base_version: before.version,
            requested_by: input.actor,
            reason: input.reason,
            requested_at: new Date(now).toISOString(),
            expires_at: new Date(now + APPROVAL_WINDOW_MINUTES * 60_000).toISOString()
          })
          yield* Store.appendTransition({
            scope: input.scope,
            kind: "reset_requested",
            from_state: "TRIPPED",
            to_state: "TRIPPED",
            version: before.version,
            source: null,
            actor: input.actor,
            reason: input.reason,
            details: { request_id: request.id, expires_at: request.expires_at },
            at: new Date(now).toISOString()
          })
          yield* audit.recordInTransaction({
            actor: input.actor,
            action: "breaker.reset_requested",
            resourceType: "breaker",
            resourceId: input.scope,
            outcome: "success",
            reason: input.reason,
            details: { request_id: request.id, version: before.version, expires_at: request.expires_at }
          })
          return { kind: "approval_requested", request } as const
        }
        const done = yield* applyReset(before, input.actor, input.reason, now, {})
        yield* audit.recordInTransaction({
          actor: input.actor,
          action: "breaker.reset",
          resourceType: "breaker",
          resourceId: input.scope,
          outcome: "success",
          reason: input.reason,
          details: { version: done.record.version, to: done.record.state, quiet_until: done.record.quiet_until }
        })
        return { kind: "reset", ...done } as const
      })
    ).pipe(databaseErrors, Effect.tapError(auditRefusal(input.actor, input.scope, "breaker.reset", input.reason)))
    if (outcome.kind === "approval_requested") {
      yield* deps.onRequested({ type: "reset_requested", request: outcome.request })
      return { kind: "approval_requested", request: outcome.request } satisfies ResetOutcome
    }
    yield* deps.onCommitted(
      outcome.record,
      { type: "transition", transition: outcome.transition, record: outcome.record },
      now
    )
    return { kind: "reset", record: outcome.record } satisfies ResetOutcome
  })

  /** Closes a request and reports why, committing the close (the caller fails afterwards). */
  const closed = (request: ResetRequest, status: ResetRequest["status"], message: string) =>
    Effect.as(Requests.closeRequest(request.id, status, null, null), {
      refused: new ApprovalClosed({ message, details: { status } })
    })

  const approve = Effect.fn("CircuitBreaker.approve")(function* (input: ApproveInput) {
    if (!UUID.test(input.requestId))
      return yield* new ApprovalNotFound({ message: `there is no reset request ${input.requestId}` })
    yield* deps.storesHealthy
    const now = yield* Clock.currentTimeMillis
    const outcome = yield* transaction(
      Effect.gen(function* () {
        const request = yield* Requests.lockRequest(input.requestId)
        if (request === undefined || request.scope !== input.scope)
          return yield* new ApprovalNotFound({
            message: `there is no reset request ${input.requestId} for ${input.scope}`
          })
        if (request.status !== "pending")
          return yield* new ApprovalClosed({
            message: `the reset request is ${request.status}`,
            details: { status: request.status }
          })
        if (Date.parse(request.expires_at) <= now)
          return yield* closed(request, "expired", `the reset request expired at ${request.expires_at}`)
        // Four-eyes compares people: an API key acts as its owner, the CLI as the user named by --as.
        yield* namedPerson(input.actor, "an approval")
        const requester = personOf(request.requested_by)
        if (requester === undefined || requester === personOf(input.actor))
          return yield* new ApprovalRefused({
            message: "a reset must be approved by a different person than the one who requested it"
          })
        const before = yield* Store.readScope(input.scope, now)
        const unsettled = deps.unsettled(input.scope)?.record
        if (
          before === undefined ||
          (before.state !== "TRIPPED" && unsettled === undefined) ||
          before.version !== request.base_version
        )
          return yield* closed(
            request,
            "superseded",
            "the breaker changed since the reset was requested (tripped again or reset): request a new reset"
          )
        yield* resettable(before, input.scope, now, undefined, unsettled)
        const done = yield* applyReset(before, input.actor, request.reason, now, {
          request_id: request.id,
          requested_by: request.requested_by,
          approved_by: input.actor
        })
        yield* Requests.closeRequest(request.id, "approved", input.actor, new Date(now).toISOString())
        yield* audit.recordInTransaction({
          actor: input.actor,
          action: "breaker.reset_approved",
          resourceType: "breaker",
          resourceId: input.scope,
          outcome: "success",
          reason: request.reason,
          details: {
            request_id: request.id,
            requested_by: request.requested_by,
            version: done.record.version,
            to: done.record.state
          }
        })
        return done
      })
    ).pipe(databaseErrors, Effect.tapError(auditRefusal(input.actor, input.scope, "breaker.reset_approve", "approval")))
    if ("refused" in outcome) return yield* outcome.refused
    yield* deps.onCommitted(
      outcome.record,
      { type: "transition", transition: outcome.transition, record: outcome.record },
      now
    )
    return { kind: "reset", record: outcome.record } satisfies ResetOutcome
  })

  return { reset, approve }
}
