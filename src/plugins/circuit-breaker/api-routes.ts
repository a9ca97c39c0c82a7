/**
 * The circuit breaker's JSON API under `/api/v1/breaker`. Reads fail closed: a scope whose state
 * cannot be read answers 503 with its `UNKNOWN` view, so a consumer that only looks at the status
 * code still halts. Trip and reset need a reason and an explicit acknowledgement; a reset, an
 * approval, a new scope and a settings change also need a recent password (a session's, not an API
 * key's), a trip never does: halting is the safe direction and takes one step in an emergency.
 * The breaker's typed refusals carry their own HTTP answers (`core/contracts/circuit-breaker/errors.ts`,
 * through `core/errors/http-answer.ts`).
 */
import { Effect, Schema } from "effect"
import { HttpServerResponse } from "effect/http"
import { actorOf } from "../../core/audit/entry.ts"
import { CurrentPrincipal } from "../../core/auth/access.ts"
import type { Login } from "../../core/auth/login.ts"
import { requireRecentAuthentication } from "../../core/auth/reauth.ts"
import {
  Acknowledge,
  BreakerRecord,
  BreakerSettings,
  type BreakerView,
  BreakerView as BreakerViewSchema,
  GLOBAL_SCOPE,
  ReadState,
  Reason,
  ResetRequest,
  ScopeName,
  Transition
} from "../../core/contracts/circuit-breaker/model.ts"
import { CircuitBreaker, type ResetOutcome } from "../../core/contracts/circuit-breaker/service.ts"
import { decodeJson, decodePath, decodeQuery } from "../../core/http/decode.ts"
import type { RouteSpec } from "../../core/http/route.ts"
import { BoundedJsonObject, Int64Id } from "../../core/input-schemas.ts"

const tags = ["circuit-breaker"]

/** Breaker state must never be served from a cache. */
const noStore = { "cache-control": "no-store" }

const ScopeParam = Schema.Struct({ scope: ScopeName })
const ApprovalParams = Schema.Struct({
  scope: ScopeName,
  id: Schema.String.check(Schema.isPattern(/^[A-Za-z0-9_-]{1,64}$/, { message: "must be a reset request id" }))
})

const Password = Schema.optionalKey(Schema.String.check(Schema.isMaxLength(1024)))

const TripBody = Schema.Struct({
  reason: Reason,
  acknowledge: Acknowledge,
  details: Schema.optionalKey(BoundedJsonObject)
})

const ResetBody = Schema.Struct({
  reason: Reason,
  acknowledge: Acknowledge,
  /** Compare-and-set: refuse (409) unless the scope is still at this version. */
  version: Schema.optionalKey(Schema.Int.check(Schema.isGreaterThanOrEqualTo(0))),
  password: Password
})

const ApproveBody = Schema.Struct({ acknowledge: Acknowledge, password: Password })
const CreateScopeBody = Schema.Struct({ scope: ScopeName, password: Password })
const SettingsPatch = Schema.Struct({
  quiet_period_seconds: Schema.optionalKey(BreakerSettings.fields.quiet_period_seconds),
  reset_approvals: Schema.optionalKey(BreakerSettings.fields.reset_approvals),
  password: Password
})

const HistoryLimit = Schema.NumberFromString.check(Schema.isInt(), Schema.isBetween({ minimum: 1, maximum: 500 }))
const HistoryQuery = Schema.Struct({
  limit: Schema.optionalKey(HistoryLimit),
  before: Schema.optionalKey(Int64Id)
})
const DEFAULT_HISTORY_LIMIT = 50

const ListResponse = Schema.Struct({ state: ReadState, scopes: Schema.Array(BreakerViewSchema) })
const TripResponse = Schema.Struct({
  record: BreakerRecord,
  changed: Schema.Boolean,
  persisted: Schema.Boolean,
  published: Schema.Boolean
})
const ResetResponse = Schema.Union([
  Schema.Struct({ kind: Schema.Literal("reset"), record: BreakerRecord }),
  Schema.Struct({ kind: Schema.Literal("approval_requested"), request: ResetRequest })
])

const unknownState = (view: BreakerView) => view.state === "UNKNOWN" || view.effective_state === "UNKNOWN"

/** A view, or 503 with the same body when it cannot be read. */
const viewResponse = (view: BreakerView) =>
  HttpServerResponse.jsonUnsafe(view, { status: unknownState(view) ? 503 : 200, headers: noStore })

/** 200 for a reset done, 202 for a request that waits for a second operator. */
const resetResponse = (outcome: ResetOutcome) =>
  HttpServerResponse.jsonUnsafe(outcome, { status: outcome.kind === "reset" ? 200 : 202 })

const actor = Effect.map(CurrentPrincipal, actorOf)

export const apiRoutes: ReadonlyArray<RouteSpec<CircuitBreaker | Login>> = [
  {
    method: "GET",
    path: "/api/v1/breaker",
    access: "VIEW_CIRCUIT_BREAKER",
    summary:
      "Every scope, `global` first; `state` is the global scope's effective state. Answers 503 with the same body when any scope reads `UNKNOWN`: treat it as tripped.",
    docs: { response: ListResponse, tags },
    handler: Effect.gen(function* () {
      const scopes = yield* (yield* CircuitBreaker).list
      const state = scopes.find((v) => v.scope === GLOBAL_SCOPE)?.effective_state ?? "UNKNOWN"
      const status = state === "UNKNOWN" || scopes.some(unknownState) ? 503 : 200
      return HttpServerResponse.jsonUnsafe({ state, scopes }, { status, headers: noStore })
    })
  },
  {
    method: "GET",
    path: "/api/v1/breaker/approvals",
    access: "VIEW_CIRCUIT_BREAKER",
    summary: "Reset requests waiting for a second operator's approval, all scopes.",
    docs: { response: Schema.Struct({ requests: Schema.Array(ResetRequest) }), tags },
    handler: Effect.gen(function* () {
      const requests = yield* (yield* CircuitBreaker).pendingApprovals()
      return HttpServerResponse.jsonUnsafe({ requests }, { headers: noStore })
    })
  },
  {
    method: "POST",
    path: "/api/v1/breaker/scopes",
    access: "MANAGE_SYSTEM_CONFIG",
    summary: "Creates a named scope (a venue, a strategy), OPEN; needs a recent password, like a reset.",
    docs: {
      body: CreateScopeBody,
      response: BreakerRecord,
      responses: { 403: "Re-authentication required (send `password`).", 409: "The scope exists." },
      tags
    },
    handler: Effect.gen(function* () {
      const { scope, password } = yield* decodeJson(CreateScopeBody)
      yield* requireRecentAuthentication(password)
      const record = yield* (yield* CircuitBreaker).createScope(scope, yield* actor)
      return HttpServerResponse.jsonUnsafe(record, { status: 201 })
    })
  },
  {
    method: "GET",
    path: "/api/v1/breaker/settings",
    access: "VIEW_CIRCUIT_BREAKER",
    summary: "The breaker's settings: quiet period and the number of approvals a reset needs.",
    docs: { response: BreakerSettings, tags },
    handler: Effect.map(
      Effect.flatMap(CircuitBreaker, (b) => b.settings),
      (settings) => HttpServerResponse.jsonUnsafe(settings, { headers: noStore })
    )
  },
  {
    method: "PUT",
    path: "/api/v1/breaker/settings",
    access: "MANAGE_SYSTEM_CONFIG",
    summary: "Changes some settings (the fields given); needs a recent password, like a reset.",
    docs: {
      body: SettingsPatch,
      response: BreakerSettings,
      responses: {
        403: "Re-authentication required (send `password`).",
        503: "The settings cannot be stored now."
      },
      tags
    },
    handler: Effect.gen(function* () {
      const { password, ...patch } = yield* decodeJson(SettingsPatch)
      yield* requireRecentAuthentication(password)
      const settings = yield* (yield* CircuitBreaker).updateSettings(patch, yield* actor)
      return HttpServerResponse.jsonUnsafe(settings)
    })
  },
  {
    method: "GET",
    path: "/api/v1/breaker/:scope",
    access: "VIEW_CIRCUIT_BREAKER",
    summary:
      "One scope's view: state, effective state (TRIPPED while `global` is), who tripped it, when and why. Answers 503 with the same body when its state is `UNKNOWN`: treat it as tripped.",
    docs: { params: ScopeParam, response: BreakerViewSchema, responses: { 404: "No such scope." }, tags },
    handler: Effect.gen(function* () {
      const { scope } = yield* decodePath(ScopeParam)
      return viewResponse(yield* (yield* CircuitBreaker).read(scope))
    }),
    // Execution services poll this: answered from memory in the fast lane when the state is known.
    fast: Effect.map(CircuitBreaker, (breaker) => {
      const bodies = new WeakMap<BreakerView, string>()
      return (params) => {
        const view = params.scope === undefined ? undefined : breaker.readNow(params.scope)
        // Unknown scopes and UNKNOWN states take the normal path (404, 503 with the view).
        if (view === undefined || unknownState(view)) return undefined
        let body = bodies.get(view)
        if (body === undefined) {
          body = JSON.stringify(view)
          bodies.set(view, body)
        }
        return { status: 200, body }
      }
    })
  },
  {
    method: "POST",
    path: "/api/v1/breaker/:scope/trip",
    access: "TRIP_CIRCUIT_BREAKER",
    summary:
      "Trips (halts) a scope: always accepted, idempotent. 200 once stored; 202 when PostgreSQL is down and the trip is published and queued to be stored.",
    docs: {
      params: ScopeParam,
      body: TripBody,
      response: TripResponse,
      responses: { 404: "No such scope." },
      tags
    },
    handler: Effect.gen(function* () {
      const { scope } = yield* decodePath(ScopeParam)
      const body = yield* decodeJson(TripBody)
      const outcome = yield* (yield* CircuitBreaker).trip({
        scope,
        reason: body.reason.trim(),
        ...(body.details === undefined ? {} : { details: body.details }),
        source: "manual",
        actor: yield* actor
      })
      return HttpServerResponse.jsonUnsafe(outcome, { status: outcome.persisted ? 200 : 202 })
    })
  },
  {
    method: "POST",
    path: "/api/v1/breaker/:scope/reset",
    access: "RESET_CIRCUIT_BREAKER",
    summary:
      "Resets a tripped scope into its quiet period (200), or, when two approvals are required, files a reset request for another operator (202).",
    docs: {
      params: ScopeParam,
      body: ResetBody,
      response: ResetResponse,
      responses: {
        403: "Re-authentication required (send `password`); or two approvals are required and the caller names no person (`approval_refused`).",
        404: "No such scope.",
        409: "Not tripped (`not_tripped`), or another change won (`version_conflict`).",
        429: "Reset too soon after the last one (`reset_rate_limited`); see `Retry-After`.",
        503: "A store is unhealthy (`stores_unhealthy`): resets are refused until both are."
      },
      tags
    },
    handler: Effect.gen(function* () {
      const { scope } = yield* decodePath(ScopeParam)
      const body = yield* decodeJson(ResetBody)
      yield* requireRecentAuthentication(body.password)
      const outcome = yield* (yield* CircuitBreaker).reset({
        scope,
        reason: body.reason.trim(),
        actor: yield* actor,
        ...(body.version === undefined ? {} : { expectedVersion: body.version })
      })
      return resetResponse(outcome)
    })
  },
  {
    method: "GET",
    path: "/api/v1/breaker/:scope/history",
    access: "VIEW_CIRCUIT_BREAKER",
    summary: "A scope's transitions, newest first; pass the last `id` as `before` for the next page.",
    docs: {
      params: ScopeParam,
      query: HistoryQuery,
      response: Schema.Struct({ transitions: Schema.Array(Transition) }),
      responses: { 404: "No such scope." },
      tags
    },
    handler: Effect.gen(function* () {
      const { scope } = yield* decodePath(ScopeParam)
      const query = yield* decodeQuery(HistoryQuery)
      const transitions = yield* (yield* CircuitBreaker).history(scope, {
        limit: query.limit ?? DEFAULT_HISTORY_LIMIT,
        ...(query.before === undefined ? {} : { before: query.before })
      })
      return HttpServerResponse.jsonUnsafe({ transitions }, { headers: noStore })
    })
  },
  {
    method: "POST",
    path: "/api/v1/breaker/:scope/approvals/:id/approve",
    access: "RESET_CIRCUIT_BREAKER",
    summary:
      "Approves another operator's pending reset request; the reset then takes effect. The requester cannot approve their own request (403 `approval_refused`).",
    docs: {
      params: ApprovalParams,
      body: ApproveBody,
      response: ResetResponse,
      responses: {
        403: "The approver is the person who requested the reset, through any of their sessions or keys (`approval_refused`); or re-authentication required (send `password`).",
        404: "No such scope or request.",
        409: "The request expired, was approved or superseded (`approval_closed`), or another change won.",
        429: "Reset too soon after the last one (`reset_rate_limited`).",
        503: "A store is unhealthy (`stores_unhealthy`)."
      },
      tags
    },
    handler: Effect.gen(function* () {
      const { scope, id } = yield* decodePath(ApprovalParams)
      const body = yield* decodeJson(ApproveBody)
      yield* requireRecentAuthentication(body.password)
      const outcome = yield* (yield* CircuitBreaker).approve({ scope, requestId: id, actor: yield* actor })
      return resetResponse(outcome)
    })
  }
]
