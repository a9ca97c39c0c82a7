/**
 * The Circuit Breaker console: the page, the fragments every page re-fetches when its live
 * connection reports a change (the panel, the dashboard's summary, the navigation's badge), the
 * favicons of the four states, and the trip, reset, approve and new-scope forms. A refused form
 * (bad input, an old sign-in, a conflict, the rate limit, a store down) is answered with the
 * console again and the reason next to the form, the user's text kept and, after a refused reset,
 * when it may be tried again, under the status the JSON API would give. A trip posted from the
 * dashboard (`_view=summary`) is answered with the dashboard's summary instead. With htmx the
 * answer is swapped in place; without JavaScript the forms are ordinary posts answered with a
 * redirect (303) or the whole page.
 */
import { Effect, Option, Schema, SchemaTransformation } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse, UrlParams } from "effect/http"
import { actorOf } from "../../core/audit/entry.ts"
import { CurrentPrincipal } from "../../core/auth/access.ts"
import { ReauthenticationRequired, requireRecentAuthentication } from "../../core/auth/reauth.ts"
import {
  ApprovalClosed,
  ApprovalNotFound,
  ApprovalRefused,
  NotTripped,
  ResetRateLimited,
  ScopeExists,
  ScopeNotFound,
  StoresUnhealthy,
  VersionConflict
} from "../../core/contracts/circuit-breaker/errors.ts"
import { Acknowledge, GLOBAL_SCOPE, Reason, ScopeName } from "../../core/contracts/circuit-breaker/model.ts"
import { CircuitBreaker, type ResetOutcome, type TripOutcome } from "../../core/contracts/circuit-breaker/service.ts"
import { BadRequest } from "../../core/errors/generic.ts"
import { stalenessSeconds } from "../../core/http/console-live.ts"
import { decodeForm, decodePath } from "../../core/http/decode.ts"
import { fragment, page } from "../../core/http/page.ts"
import { classify } from "../../core/http/respond-error.ts"
import type { RouteSpec } from "../../core/http/route.ts"
import { publicAsset } from "../../core/http/static.ts"
import type { CoreServices } from "../../core/module.ts"
import { panelData, summaryData } from "./console-data.ts"
import { liveStreamFor } from "./console-parts.ts"
import { type BreakerAction, breakerConsole, breakerPage, breakerPanel, type FormProblem } from "./page.ts"
import { breakerBadge } from "./views/badge.ts"
import { breakerSummary, breakerSummaryConsole } from "./views/summary.ts"

const TITLE = "Circuit Breaker"

// ---------------------------------------------------------------------------------------------
// Assets served with the page: its stylesheet and script, and the favicons every page shows.

const css = publicAsset("breaker.css", "text/css; charset=utf-8")
const js = publicAsset("breaker.js", "text/javascript; charset=utf-8")
/** The favicons every page switches between (views/badge.ts names them). */
const favicons = ["open", "quiet", "halted", "unknown"].map((state) =>
  publicAsset(`favicon-${state}.svg`, "image/svg+xml")
)

// ---------------------------------------------------------------------------------------------
// Input.

/** A checked checkbox sends `acknowledge=on`; an unchecked one sends nothing. */
const Checkbox = Schema.Literal("on").pipe(
  Schema.decodeTo(
    Acknowledge,
    SchemaTransformation.transform({ decode: () => true as const, encode: () => "on" as const })
  ),
  Schema.annotateKey({ messageMissingKey: "must be checked: acknowledge the consequences" })
)
const FormReason = Reason.pipe(Schema.annotateKey({ messageMissingKey: "is required" }))
const Password = Schema.optionalKey(Schema.String.check(Schema.isMaxLength(1024)))

// No password for a trip: halting is the safe direction and must take one step in an emergency.
const TripForm = Schema.Struct({ reason: FormReason, acknowledge: Checkbox })
const ResetForm = Schema.Struct({
  reason: FormReason,
  acknowledge: Checkbox,
  password: Password,
  /** The version the operator saw: another change in between is a conflict, not a blind reset. */
  version: Schema.optionalKey(Schema.NumberFromString.check(Schema.isInt(), Schema.isGreaterThanOrEqualTo(0)))
})
const ApproveForm = Schema.Struct({ acknowledge: Checkbox, password: Password })
const CreateScopeForm = Schema.Struct({
  scope: ScopeName.pipe(Schema.annotateKey({ messageMissingKey: "is required" })),
  password: Password
})

const ScopeParam = Schema.Struct({ scope: ScopeName })
const ApprovalParams = Schema.Struct({
  scope: ScopeName,
  id: Schema.String.check(Schema.isPattern(/^[A-Za-z0-9_-]{1,64}$/, { message: "must be a reset request id" }))
})

/** The outcome of a no-JavaScript post, carried by the redirect to the page. */
const NoticeKey = Schema.Literals([
  "tripped",
  "trip_recorded",
  "trip_unstored",
  "reset",
  "reset_requested",
  "approved",
  "scope_created"
])
type NoticeKey = typeof NoticeKey.Type
const PageQuery = Schema.Struct({ notice: Schema.optionalKey(NoticeKey), scope: Schema.optionalKey(ScopeName) })

const noticeText = (key: NoticeKey, scope: string): string => {
  switch (key) {
    case "tripped":
      return `${scope} tripped: trading is halted.`
    case "trip_recorded":
      return `${scope} was already tripped: your reason was added to its history; the trip time is unchanged.`
    case "trip_unstored":
      return `${scope} tripped and published, but PostgreSQL did not answer: the trip is stored as soon as it is back.`
    case "reset":
      return `${scope} reset: it is in its quiet period, then OPEN.`
    case "reset_requested":
      return `Reset of ${scope} requested: another operator must approve it within 15 minutes.`
    case "approved":
      return `Reset of ${scope} approved: it is in its quiet period, then OPEN.`
    case "scope_created":
      return `Scope ${scope} added: it is OPEN.`
  }
}

const tripNotice = (outcome: TripOutcome): NoticeKey =>
  !outcome.persisted ? "trip_unstored" : outcome.changed ? "tripped" : "trip_recorded"

const resetNotice =
  (done: NoticeKey) =>
  (outcome: ResetOutcome): NoticeKey =>
    outcome.kind === "reset" ? done : "reset_requested"

const fullPage = (notice: string | undefined, problem?: FormProblem, status = 200) =>
  Effect.gen(function* () {
    const data = yield* panelData(problem)
    const principal = yield* CurrentPrincipal
    const view = breakerPage({
      ...data,
      notice,
      streamUrl: liveStreamFor(principal),
      stalenessSeconds: yield* stalenessSeconds,
      assets: { css: css.url, js: js.url }
    })
    return yield* page(TITLE, view, { status })
  })

// ---------------------------------------------------------------------------------------------
// Form posts.

/** Refusals shown next to the form; anything else is answered by the error page. */
const Refusal = Schema.Union([
  BadRequest,
  ReauthenticationRequired,
  ScopeNotFound,
  ScopeExists,
  NotTripped,
  VersionConflict,
  ResetRateLimited,
  StoresUnhealthy,
  ApprovalRefused,
  ApprovalNotFound,
  ApprovalClosed
])
const isRefusal = Schema.is(Refusal)

const isHtmx = Effect.map(HttpServerRequest.HttpServerRequest, (r) => r.headers["hx-request"] === "true")

/** A field as typed (to give it back), even when the form did not decode. */
const typed = (name: string, max: number) =>
  Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const params = yield* request.urlParamsBody
    return Option.getOrElse(UrlParams.getFirst(params, name), () => "").slice(0, max)
  }).pipe(Effect.orElseSucceed(() => ""))

/** The form was posted from the dashboard's summary, which wants the summary back. */
const fromSummary = Effect.map(typed("_view", 16), (view) => view === "summary")

/** The seconds a refusal says to wait (the reset rate limit's `Retry-After`). */
const retryAfterOf = (refusal: typeof Refusal.Type): number | undefined =>
  refusal._tag === "ResetRateLimited" ? Math.max(1, Math.ceil(refusal.retryAfterSeconds)) : undefined

/**
 * Runs a form's change and answers: the console (or, from the dashboard, its summary) with a
 * notice (htmx) or a redirect (303); on a refusal, the console, the summary or the page with the
 * message next to the form, under the refusal's status (and its `Retry-After`).
 */
const submit = <E, R>(action: BreakerAction, change: Effect.Effect<{ scope: string; notice: NoticeKey }, E, R>) =>
  Effect.gen(function* () {
    const htmx = yield* isHtmx
    const summary = yield* fromSummary
    return yield* change.pipe(
      Effect.flatMap(({ scope, notice }) =>
        !htmx
          ? Effect.succeed(
              HttpServerResponse.redirect(`/breaker?notice=${notice}&scope=${encodeURIComponent(scope)}`, {
                status: 303
              })
            )
          : summary
            ? Effect.map(summaryData(), (data) =>
                fragment(breakerSummaryConsole({ ...data, notice: noticeText(notice, scope) }))
              )
            : Effect.map(panelData(), (data) =>
                fragment(breakerConsole({ ...data, notice: noticeText(notice, scope) }))
              )
      ),
      Effect.catchIf(isRefusal, (refusal) =>
        Effect.gen(function* () {
          const answer = classify(refusal)
          const params = yield* HttpRouter.params
          const retryAfterSeconds = retryAfterOf(refusal)
          const problem: FormProblem = {
            scope: action === "create" ? yield* typed("scope", 63) : (params.scope ?? ""),
            action,
            ...(params.id === undefined ? {} : { requestId: params.id }),
            message: answer.message,
            issues: answer.issues ?? [],
            reason: yield* typed("reason", 2000),
            passwordNeeded: refusal._tag === "ReauthenticationRequired",
            ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds })
          }
          const response = !htmx
            ? yield* fullPage(undefined, problem, answer.status)
            : summary
              ? fragment(breakerSummaryConsole({ ...(yield* summaryData(problem)), notice: undefined }))
              : fragment(breakerConsole({ ...(yield* panelData(problem)), notice: undefined }))
          return HttpServerResponse.setHeaders(
            HttpServerResponse.setStatus(response, answer.status),
            answer.headers ?? {}
          )
        })
      )
    )
  })

const actor = Effect.map(CurrentPrincipal, actorOf)

// ---------------------------------------------------------------------------------------------
// Routes.

export const consoleRoutes: ReadonlyArray<RouteSpec<CoreServices | CircuitBreaker>> = [
  css.route,
  js.route,
  ...favicons.map((icon) => icon.route),
  {
    method: "GET",
    path: "/breaker",
    access: "VIEW_CIRCUIT_BREAKER",
    summary: "Circuit Breaker page: every scope's state, who tripped it and why, history, approvals and the forms.",
    handler: Effect.gen(function* () {
      // A mangled notice in a bookmark is not worth a refusal: the page shows without it.
      const params = yield* HttpServerRequest.ParsedSearchParams
      const query: typeof PageQuery.Type = Option.getOrElse(Schema.decodeUnknownOption(PageQuery)(params), () => ({}))
      const notice = query.notice === undefined ? undefined : noticeText(query.notice, query.scope ?? "the breaker")
      return yield* fullPage(notice)
    })
  },
  {
    method: "GET",
    path: "/breaker/panel",
    access: "VIEW_CIRCUIT_BREAKER",
    summary: "The Circuit Breaker panel (htmx fragment), re-fetched by the page on every breaker event.",
    handler: Effect.map(panelData(), (data) => fragment(breakerPanel(data)))
  },
  {
    method: "GET",
    path: "/breaker/summary",
    access: "VIEW_CIRCUIT_BREAKER",
    summary:
      "Every scope at a glance with a one-step trip (htmx fragment): the dashboard re-fetches it on every breaker event.",
    handler: Effect.map(summaryData(), (data) => fragment(breakerSummary(data)))
  },
  {
    method: "GET",
    path: "/breaker/badge",
    access: "VIEW_CIRCUIT_BREAKER",
    summary:
      "The global breaker's badge for the navigation (htmx fragment): every page re-fetches it on every breaker event.",
    handler: Effect.map(CircuitBreaker, (breaker) => fragment(breakerBadge(breaker.readNow(GLOBAL_SCOPE))))
  },
  {
    method: "POST",
    path: "/breaker/scopes",
    access: "MANAGE_SYSTEM_CONFIG",
    summary: "Adds a named scope from the console form (OPEN); needs a recent password, like the API.",
    handler: submit(
      "create",
      Effect.gen(function* () {
        const form = yield* decodeForm(CreateScopeForm)
        yield* requireRecentAuthentication(form.password)
        const record = yield* (yield* CircuitBreaker).createScope(form.scope, yield* actor)
        return { scope: record.scope, notice: "scope_created" as const }
      })
    )
  },
  {
    method: "POST",
    path: "/breaker/:scope/trip",
    access: "TRIP_CIRCUIT_BREAKER",
    summary: "Trips a scope from the console form (reason and acknowledgement; never a password).",
    handler: submit(
      "trip",
      Effect.gen(function* () {
        const { scope } = yield* decodePath(ScopeParam)
        const form = yield* decodeForm(TripForm)
        const outcome = yield* (yield* CircuitBreaker).trip({
          scope,
          reason: form.reason.trim(),
          source: "manual",
          actor: yield* actor
        })
        return { scope, notice: tripNotice(outcome) }
      })
    )
  },
  {
    method: "POST",
    path: "/breaker/:scope/reset",
    access: "RESET_CIRCUIT_BREAKER",
    summary: "Resets a tripped scope from the console form, or files a reset request when two approvals are needed.",
    handler: submit(
      "reset",
      Effect.gen(function* () {
        const { scope } = yield* decodePath(ScopeParam)
        const form = yield* decodeForm(ResetForm)
        yield* requireRecentAuthentication(form.password)
        const outcome = yield* (yield* CircuitBreaker).reset({
          scope,
          reason: form.reason.trim(),
          actor: yield* actor,
          ...(form.version === undefined ? {} : { expectedVersion: form.version })
        })
        return { scope, notice: resetNotice("reset")(outcome) }
      })
    )
  },
  {
    method: "POST",
    path: "/breaker/:scope/approvals/:id/approve",
    access: "RESET_CIRCUIT_BREAKER",
    summary: "Approves another operator's pending reset request from the console (four-eyes).",
    handler: submit(
      "approve",
      Effect.gen(function* () {
        const { scope, id } = yield* decodePath(ApprovalParams)
        const form = yield* decodeForm(ApproveForm)
        yield* requireRecentAuthentication(form.password)
        const outcome = yield* (yield* CircuitBreaker).approve({ scope, requestId: id, actor: yield* actor })
        return { scope, notice: resetNotice("approved")(outcome) }
      })
    )
  }
]
