/**
 * Idempotency keys on the JSON API (draft-ietf-httpapi-idempotency-key-header, as Stripe does it):
 * a `POST` under /api/v1 that carries `Idempotency-Key` acts at most once per caller and key. The
 * first request claims the key in one atomic insert and its answer is kept; a retry of the same
 * request replays it (`Idempotent-Replayed: true`); another request under the key is 422; a
 * duplicate that arrives while the first runs waits for its answer (409 after the wait). The
 * server calls {@link Idempotency.guard} once the caller is authorized and the body limit is in
 * force. Rules: `core/idempotency/policy.ts`; table: `core/idempotency/store.ts`; reasons:
 * docs/CONCEPTS/idempotency.md.
 */

import { randomUUID } from "node:crypto"
import { Clock, Context, Effect, Exit, Layer, Option } from "effect"
import { type HttpServerError, type HttpServerRequest, HttpServerResponse } from "effect/http"
import type { Principal } from "../auth/access.ts"
import { isDatabaseDown } from "../db/outage.ts"
import { BadRequest } from "../errors/generic.ts"
import { IdempotencyAnswerWithheld, IdempotencyKeyInProgress, IdempotencyKeyReused } from "../idempotency/errors.ts"
import {
  callerScope,
  carriesSecret,
  DEFAULT_LEASE_MILLIS,
  DEFAULT_WAIT_MILLIS,
  fingerprintOf,
  IDEMPOTENCY_KEY_HEADER,
  isKeptStatus,
  parseKey,
  REPLAYED_HEADER
} from "../idempotency/policy.ts"
import { idempotencyTtlHours } from "../idempotency/settings.ts"
import {
  type ClaimRef,
  type ClaimRequest,
  IdempotencyStore,
  isClaimable,
  type KeptAnswer,
  type StoredKey
} from "../idempotency/store.ts"
import { Metrics } from "../observability/metrics.ts"
import { Settings } from "../settings/service.ts"

/** Each call to the table; past it the store counts as down (as the breaker's own database calls). */
const STORE_TIMEOUT = "2 seconds"
/** A waiting duplicate looks again after 25 ms, then twice as long each time, at most every 400 ms. */
const FIRST_POLL_MILLIS = 25
const MAX_POLL_MILLIS = 400

export type IdempotencyRefusal =
  | BadRequest
  | IdempotencyKeyInProgress
  | IdempotencyKeyReused
  | IdempotencyAnswerWithheld

export interface IdempotencyOptions<R> {
  /** Hours an answer is kept ({@link idempotencyTtlHours}); read once per keyed request. */
  readonly ttlHours: Effect.Effect<number, never, R>
  /** How long a duplicate waits for the first request's answer before 409. */
  readonly waitMillis?: number
  /** How long a claim holds unless renewed (it is renewed every third of this while the request runs). */
  readonly leaseMillis?: number
}

export interface IdempotencyShape {
  /**
   * `respond` (the route's handler, its failures already turned into answers) behind the
   * request's `Idempotency-Key`, if it carries one; without the header, `respond` as it is. The
   * server calls it only where `appliesTo` holds. A bad key is a 400 naming the header.
   */
  readonly guard: <R>(
    request: HttpServerRequest.HttpServerRequest,
    principal: Principal,
    respond: Effect.Effect<HttpServerResponse.HttpServerResponse, never, R>
  ) => Effect.Effect<HttpServerResponse.HttpServerResponse, IdempotencyRefusal | HttpServerError.HttpServerError, R>
}

type Step =
  | { readonly _tag: "Answered"; readonly response: HttpServerResponse.HttpServerResponse }
  | { readonly _tag: "Held"; readonly row: StoredKey }
  | { readonly _tag: "Vanished" }

/** The answer as it is kept, or `undefined` when it is not (the claim is then released). */
export const keptAnswerOf = (response: HttpServerResponse.HttpServerResponse): KeptAnswer | undefined => {
  if (!isKeptStatus(response.status)) return undefined
  const body = response.body
  // A stream (or a raw Node body) cannot be read twice: such an answer is not kept.
  if (body._tag !== "Uint8Array" && body._tag !== "Empty") return undefined
  const headers: Record<string, string> = {}
  if (body._tag === "Uint8Array") headers["content-type"] = body.contentType
  for (const name of ["location", "retry-after"]) {
    const value = response.headers[name]
    if (value !== undefined) headers[name] = value
  }
  const withheld = carriesSecret(response.headers["cache-control"])
  const bytes = body._tag === "Uint8Array" ? body.body : new Uint8Array(0)
  return { status: response.status, headers, body: withheld ? null : bytes, withheld }
}

/** A kept answer, sent again. */
const replay = (row: StoredKey): Effect.Effect<HttpServerResponse.HttpServerResponse, IdempotencyAnswerWithheld> => {
  if (row.withheld || row.response_status === null)
    return Effect.fail(
      new IdempotencyAnswerWithheld({
        message:
          "the request with this Idempotency-Key was executed, but its answer carried a secret and was not kept: it cannot be sent again",
        details: { status: row.response_status }
      })
    )
  const { "content-type": contentType, ...rest } = row.response_headers ?? {}
  const headers = { ...rest, [REPLAYED_HEADER]: "true" }
  const status = row.response_status
  return Effect.succeed(
    contentType === undefined
      ? HttpServerResponse.empty({ status, headers })
      : HttpServerResponse.uint8Array(row.response_body ?? new Uint8Array(0), { status, contentType, headers })
  )
}

const make = <R>(options: IdempotencyOptions<R>) =>
  Effect.gen(function* () {
    const store = yield* IdempotencyStore
    const outcomes = (yield* Metrics).counter({
      name: "breakwater_idempotency_outcomes_total",
      help: "POSTs under /api/v1 that carried an Idempotency-Key, by what became of them: executed, replayed, reused (422), in_progress (409), withheld (409).",
      labelNames: ["outcome"]
    })
    for (const outcome of ["executed", "replayed", "reused", "in_progress", "withheld"]) outcomes.inc({ outcome }, 0)
    const context = yield* Effect.context<R>()
    const ttlHours = Effect.provide(options.ttlHours, context)
    const waitMillis = options.waitMillis ?? DEFAULT_WAIT_MILLIS
    const leaseMillis = options.leaseMillis ?? DEFAULT_LEASE_MILLIS

    const bounded = <A, E>(effect: Effect.Effect<A, E>) => Effect.timeout(effect, STORE_TIMEOUT)

    /** Keeps the answer, or releases the claim so a retry executes; never fails the request. */
    const settle = (ref: ClaimRef, exit: Exit.Exit<HttpServerResponse.HttpServerResponse>) =>
      Effect.gen(function* () {
        const kept = Exit.isSuccess(exit) ? keptAnswerOf(exit.value) : undefined
        if (kept === undefined) {
          yield* store.release(ref)
          return
        }
        const now = yield* Clock.currentTimeMillis
        const hours = yield* ttlHours
        const ours = yield* store.complete(ref, kept, now, now + hours * 3_600_000)
        if (!ours) yield* Effect.logWarning("an idempotency key's claim ran out before its answer was kept")
      }).pipe(
        Effect.catchCause((cause) =>
          Effect.logError(
            "the answer to an idempotency key could not be kept; the key is free again once its claim runs out",
            cause
          )
        )
      )

    /** Renews the claim while the request runs; a renewal that fails is logged, the request goes on. */
    const heartbeat = (ref: ClaimRef): Effect.Effect<never> =>
      Effect.gen(function* () {
        for (;;) {
          yield* Effect.sleep(Math.max(1, Math.floor(leaseMillis / 3)))
          const now = yield* Clock.currentTimeMillis
          if (!(yield* bounded(store.renew(ref, now + leaseMillis)))) {
            yield* Effect.logWarning("an idempotency key's claim was taken over while its request ran")
            return yield* Effect.never
          }
        }
      }).pipe(
        Effect.catch((error) =>
          Effect.andThen(Effect.logWarning("an idempotency key's claim could not be renewed", error), Effect.never)
        )
      )

    /**
     * Claims the key and, if it is ours, runs the request under it. Uninterruptible between the
     * claim and the finalizer that settles it, so no interruption leaves a claim behind.
     */
    const claimAndRun = <R2>(
      claim: ClaimRequest,
      respond: Effect.Effect<HttpServerResponse.HttpServerResponse, never, R2>
    ) =>
      Effect.uninterruptibleMask((restore) =>
        restore(bounded(store.claim(claim))).pipe(
          Effect.onExit((exit) =>
            // Cut short (a timeout, the client gone), the insert may still have happened: drop it
            // in the background (an outage would make this wait), or its lease runs out.
            Exit.isSuccess(exit)
              ? Effect.void
              : Effect.asVoid(
                  Effect.forkDetach(
                    bounded(store.release(claim)).pipe(
                      Effect.catch((error) => Effect.logDebug("an unfinished idempotency claim was not dropped", error))
                    )
                  )
                )
          ),
          Effect.flatMap(
            (outcome): Effect.Effect<Step, never, R2> =>
              outcome._tag === "Claimed"
                ? restore(Effect.raceFirst(respond, heartbeat(claim))).pipe(
                    Effect.onExit((exit) => settle(claim, exit)),
                    Effect.map((response) => ({ _tag: "Answered", response }) as const)
                  )
                : Effect.succeed(outcome)
          )
        )
      )

    const keyed = <R2>(
      ref: { readonly principal: string; readonly key: string },
      fingerprint: string,
      request: HttpServerRequest.HttpServerRequest,
      respond: Effect.Effect<HttpServerResponse.HttpServerResponse, never, R2>
    ) =>
      Effect.gen(function* () {
        const deadline = (yield* Clock.currentTimeMillis) + waitMillis
        let delay = FIRST_POLL_MILLIS
        let row: StoredKey | undefined
        for (;;) {
          const now = yield* Clock.currentTimeMillis
          if (row === undefined || isClaimable(row, fingerprint, now)) {
            const hours = yield* ttlHours
            const step = yield* claimAndRun(
              {
                ...ref,
                token: randomUUID(),
                fingerprint,
                method: request.method,
                path: request.url,
                now,
                lockedUntil: now + leaseMillis,
                expiresAt: now + hours * 3_600_000
              },
              respond
            )
            if (step._tag === "Answered") {
              outcomes.inc({ outcome: "executed" })
              return step.response
            }
            // Released between the insert and the read: claim again.
            if (step._tag === "Vanished") continue
            row = step.row
          }
          if (row.fingerprint !== fingerprint) {
            outcomes.inc({ outcome: "reused" })
            return yield* new IdempotencyKeyReused({
              message:
                "this Idempotency-Key was used for another request (method, path, query or body differ): use a new key for a new request"
            })
          }
          if (row.state === "completed") {
            const stored = row
            return yield* replay(stored).pipe(
              Effect.tap(() => Effect.sync(() => outcomes.inc({ outcome: "replayed" }))),
              Effect.tapError(() => Effect.sync(() => outcomes.inc({ outcome: "withheld" })))
            )
          }
          const waited = yield* Clock.currentTimeMillis
          if (waited >= deadline) {
            outcomes.inc({ outcome: "in_progress" })
            return yield* new IdempotencyKeyInProgress({
              message: "the first request with this Idempotency-Key has not finished: retry it later",
              retryAfterSeconds: 1
            })
          }
          yield* Effect.sleep(Math.min(delay, deadline - waited))
          delay = Math.min(delay * 2, MAX_POLL_MILLIS)
          row = Option.getOrUndefined(yield* bounded(store.find(ref.principal, ref.key)))
        }
      }).pipe(
        // Only the store being unreachable (or too slow) lets the request run unguarded: its handler
        // decides then (a trip is accepted without a database; most changes are refused). Any other
        // SQL error is a bug.
        Effect.catchIf(
          (error) => error._tag === "SqlError" || error._tag === "TimeoutError",
          (error) =>
            isDatabaseDown(error)
              ? Effect.andThen(
                  Effect.logWarning("the idempotency store is unreachable: the request runs without its key", error),
                  respond
                )
              : Effect.die(error)
        )
      )

    const guard: IdempotencyShape["guard"] = (request, principal, respond) => {
      const raw = request.headers[IDEMPOTENCY_KEY_HEADER]
      if (raw === undefined) return respond
      const scope = callerScope(principal)
      if (scope === undefined) return respond
      const parsed = parseKey(raw)
      if (parsed._tag === "Invalid")
        return Effect.fail(
          new BadRequest({
            message: `invalid request: the Idempotency-Key header ${parsed.problem}`,
            issues: [{ path: "Idempotency-Key", message: parsed.problem }]
          })
        )
      // The body is read under the route's limit and cached: the handler reads it again.
      return Effect.flatMap(request.arrayBuffer, (body) =>
        keyed(
          { principal: scope, key: parsed.key },
          fingerprintOf(request.method, request.url, new Uint8Array(body)),
          request,
          respond
        )
      ).pipe(Effect.withSpan("Idempotency.guard"))
    }

    return Idempotency.of({ guard })
  })

/** Runs each keyed `POST` of the JSON API at most once per caller and key. */
export class Idempotency extends Context.Service<Idempotency, IdempotencyShape>()("breakwater/Idempotency") {
  /** With the TTL read from `ttlHours`: point it at the Settings service's {@link idempotencyTtlHours}. */
  static readonly layerWith = <R>(options: IdempotencyOptions<R>) =>
    Layer.effect(Idempotency, make(options)).pipe(Layer.provide(IdempotencyStore.layer))

  /** The TTL from the Settings service, read for each keyed request (a change holds at once). */
  static readonly layer = Idempotency.layerWith({
    ttlHours: Effect.flatMap(Settings, (s) => s.get(idempotencyTtlHours))
  })
}
