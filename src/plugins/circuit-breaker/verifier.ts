/**
 * The verifier: every second it reads the truth from PostgreSQL, writes queued trips, compares the
 * published copy (repairing drift, but writing a newer published trip instead of undoing it), ends
 * quiet periods, confirms what readers are told and sets `cb_staleness_seconds`. With the database
 * down, the published copy confirms the readings. Also the listener for other replicas' changes.
 */
import { Clock, Effect, Option, Stream } from "effect"
import type { Actor } from "../../core/audit/entry.ts"
import { type BreakerRecord, GLOBAL_SCOPE } from "../../core/contracts/circuit-breaker/model.ts"
import type { VerificationReport } from "../../core/contracts/circuit-breaker/service.ts"
import type { BreakerContext } from "./context.ts"
import { DATABASE_TIMEOUT } from "./context.ts"
import { decodeChange, decodeRecord, readPublishedRaw, recordJson } from "./publication.ts"
import { CHANGES_CHANNEL, stateKey } from "./published-keys.ts"
import * as Store from "./store.ts"
import { quietEnded } from "./transitions.ts"
import type { makeTrips } from "./trips.ts"

export const makeVerifier = (ctx: BreakerContext, trips: ReturnType<typeof makeTrips>) => {
  const {
    audit,
    shared,
    known,
    lastVerified,
    publishing,
    inDatabase,
    transaction,
    remember,
    held,
    confirmHeld,
    deliver,
    afterCommit
  } = ctx
  const { writeAccepted, settleLater, reconcilePending } = trips

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
          ).pipe(Effect.timeout(DATABASE_TIMEOUT))
          if (written === undefined) return Option.none<string>()
          yield* afterCommit(record, written, now)
          return Option.some(before.scope)
        }),
      { concurrency: 1 }
    ).pipe(Effect.map((opened) => opened.filter(Option.isSome).map((o) => o.value)))

  /**
   * Compares each published record with the truth; a newer published trip is reconciled, not
   * overwritten. The copies are read after the truth, so a transition committed in between shows
   * as a newer copy: every copy that differs is judged against the truth read again, after it.
   */
  const checkPublished = (truth: ReadonlyArray<BreakerRecord>, now: number) =>
    Effect.gen(function* () {
      const repaired: Array<string> = []
      let reconciled = 0
      // A scope held tripped by a trip that is not in PostgreSQL publishes what readers are told.
      const expected = truth.map((record) => held(record.scope)?.record ?? record)
      const copies = yield* readPublishedRaw(
        shared,
        expected.map((r) => r.scope)
      )
      // The usual case, every second for every scope: the copy is exact. Only a difference is
      // decoded, and not while this process's own publication of the scope is on its way.
      const differing = expected.flatMap((record, i) => {
        const published = copies[i] ?? Option.none()
        return publishing.has(record.scope) || (Option.isSome(published) && published.value === recordJson(record))
          ? []
          : [{ scope: record.scope, published }]
      })
      if (differing.length === 0) return { repaired, reconciled }
      const fresh = new Map(
        (yield* inDatabase(
          Store.readScopesNamed(
            differing.map((d) => d.scope),
            now
          )
        )).map((r) => [r.scope, r])
      )
      for (const { scope, published } of differing) {
        const holding = held(scope)
        if (holding !== undefined) {
          if (yield* shared.setIfUnchanged(stateKey(scope), published, recordJson(holding.record))) repaired.push(scope)
          continue
        }
        const record = fresh.get(scope)
        // Scopes are never deleted; a row that vanished is not for the verifier to publish.
        if (record === undefined) continue
        // A transition committed between the two reads, and its own publication is in place.
        if (Option.isSome(published) && published.value === recordJson(record)) continue
        const copy = Option.flatMap(published, decodeRecord)
        if (
          Option.isSome(copy) &&
          copy.value.state === "TRIPPED" &&
          copy.value.version > record.version &&
          record.state !== "TRIPPED"
        ) {
          // Another process published a trip while the database was down: write it, never undo it.
          const p = copy.value
          const at = p.tripped_at === null ? now : Date.parse(p.tripped_at)
          const written = yield* writeAccepted(
            {
              scope: record.scope,
              reason: p.trip_reason ?? "tripped while the database was unreachable",
              details: p.trip_details ?? {},
              source: p.trip_source ?? "manual",
              actor: p.tripped_by ?? { type: "system", id: "system:unknown", name: "unknown" }
            },
            at,
            { accepted_while_database_down: true, accepted_at: p.tripped_at }
          )
          if (written._tag === "Written") {
            yield* afterCommit(written.record, written.transition, now)
            reconciled++
          } else if (written._tag === "Refused") yield* settleLater(p, written.problem, written.cause)
          else yield* Effect.logWarning("breaker: a published trip could not be written yet, retrying", written.cause)
          continue
        }
        // Only over the copy just read: a publication that lands meanwhile is newer than this truth.
        if (yield* shared.setIfUnchanged(stateKey(scope), published, recordJson(record))) repaired.push(scope)
      }
      return { repaired, reconciled }
    })

  const verifyOnce: Effect.Effect<VerificationReport> = Effect.gen(function* () {
    const now = yield* Clock.currentTimeMillis
    const read = Store.readScopes(now).pipe(inDatabase, Effect.timeout(DATABASE_TIMEOUT), Effect.exit)
    let truth = yield* read
    if (truth._tag === "Failure") {
      // The database is unreachable: the published copy still confirms what readers are told.
      const scopes = [...new Set([GLOBAL_SCOPE, ...known.keys()])]
      const copies = yield* readPublishedRaw(shared, scopes).pipe(Effect.orElseSucceed(() => []))
      for (const [i, scope] of scopes.entries()) {
        const record = Option.flatMap(copies[i] ?? Option.none(), decodeRecord)
        const entry = known.get(scope)
        if (Option.isSome(record)) remember(record.value, now, entry?.pending ?? false, entry?.unsettled)
      }
      return { truthRead: false, publishedChecked: false, repaired: [], reconciled: 0, opened: [] }
    }
    let reconciled = yield* reconcilePending
    if (reconciled > 0) truth = yield* read
    if (truth._tag === "Failure")
      return { truthRead: false, publishedChecked: false, repaired: [], reconciled, opened: [] }
    const checked = yield* Effect.exit(checkPublished(truth.value, now))
    const repaired = checked._tag === "Success" ? checked.value.repaired : []
    reconciled += checked._tag === "Success" ? checked.value.reconciled : 0
    const opened = yield* endQuietPeriods(truth.value, now).pipe(Effect.orElseSucceed(() => []))
    const latest = reconciled > 0 || opened.length > 0 ? yield* read : truth
    if (latest._tag === "Success")
      for (const record of latest.value) {
        const holding = held(record.scope)
        if (holding === undefined) remember(record, now)
        else confirmHeld(holding, now)
      }
    if (checked._tag === "Success") for (const record of truth.value) lastVerified.set(record.scope, now)
    else yield* Effect.logWarning("breaker: the published copy could not be checked", checked.cause)
    return { truthRead: true, publishedChecked: checked._tag === "Success", repaired, reconciled, opened }
  })

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

  return { verifyOnce, listen }
}
