/**
 * The Circuit Breaker console: the page, the panel fragment the page re-fetches on every change
 * (its script listens to `/api/v1/breaker/stream`), and the trip, reset and approve forms. A
 * refused form (bad input, an old sign-in, a conflict, the rate limit, a store down) is answered
 * with the console again and the reason next to the form, the user's text kept, under the status
 * the JSON API would give. With htmx the console is swapped in place; without JavaScript the forms
 * are ordinary posts answered with a redirect (303) or the whole page.
 */
import { Clock, Effect, Option, Schema, SchemaTransformation } from "effect"
import { HttpRouter, HttpServerRequest, HttpServerResponse, UrlParams } from "effect/http"
import { actorOf } from "../../core/audit/entry.ts"
import { CurrentPrincipal } from "../../core/auth/access.ts"
import { REAUTH_WINDOW_MINUTES, ReauthenticationRequired, requireRecentAuthentication } from "../../core/auth/reauth.ts"
import {
  ApprovalClosed,
  ApprovalNotFound,
  ApprovalRefused,
  NotTripped,
  ResetRateLimited,
  ScopeNotFound,
  StoresUnhealthy,
  VersionConflict
} from "../../core/contracts/circuit-breaker/errors.ts"
import { Acknowledge, type BreakerView, Reason, ScopeName } from "../../core/contracts/circuit-breaker/model.ts"
import { CircuitBreaker, type ResetOutcome, type TripOutcome } from "../../core/contracts/circuit-breaker/service.ts"
import { BadRequest } from "../../core/errors/generic.ts"
import { decodeForm, decodePath } from "../../core/http/decode.ts"
import { fragment, page } from "../../core/http/page.ts"
import { classify } from "../../core/http/respond-error.ts"
import type { RouteSpec } from "../../core/http/route.ts"
import { publicAsset } from "../../core/http/static.ts"
import type { CoreServices } from "../../core/module.ts"
import {
  type BreakerAction,
  type BreakerPanelData,
  breakerConsole,
  breakerPage,
  breakerPanel,
  type FormProblem
} from "./page.ts"

const TITLE = "Circuit Breaker"
const STREAM_URL = "/api/v1/breaker/stream"
/** Rows of the history table: the newest transitions of all scopes together. */
const HISTORY_ROWS = 20
/** The page shows what it has rather than wait long for history or approvals. */
const SECONDARY_READ_TIMEOUT = "3 seconds"

// ---------------------------------------------------------------------------------------------
// Page assets: the page's stylesheet and its live-update script, served here with the page.

const css = publicAsset("breaker.css", "text/css; charset=utf-8")
const js = publicAsset("breaker.js", "text/javascript; charset=utf-8")

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

const ScopeParam = Schema.Struct({ scope: ScopeName })
const ApprovalParams = Schema.Struct({
  scope: ScopeName,
  id: Schema.String.check(Schema.isPattern(/^[A-Za-z0-9_-]{1,64}$/, { message: "must be a reset request id" }))
})

/** The outcome of a no-JavaScript post, carried by the redirect to the page. */
const NoticeKey = Schema.Literals(["tripped", "trip_recorded", "trip_unstored", "reset", "reset_requested", "approved"])
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
  }
}

const tripNotice = (outcome: TripOutcome): NoticeKey =>
  !outcome.persisted ? "trip_unstored" : outcome.changed ? "tripped" : "trip_recorded"

const resetNotice =
  (done: NoticeKey) =>
  (outcome: ResetOutcome): NoticeKey =>
    outcome.kind === "reset" ? done : "reset_requested"

// ---------------------------------------------------------------------------------------------
// Reading what the page shows.

const messageOf = (error: { readonly _tag: string }): string =>
  error._tag === "TimeoutError"
    ? `no answer within ${SECONDARY_READ_TIMEOUT}`
    : "message" in error && typeof error.message === "string"
      ? error.message
      : error._tag

/** A secondary read (history, approvals, settings): its value, or why the page goes without it. */
const orUnavailable = <A, E extends { readonly _tag: string }>(read: Effect.Effect<A, E>) =>
  read.pipe(
    Effect.timeout(SECONDARY_READ_TIMEOUT),
    Effect.map((value) => ({ value, error: undefined })),
    Effect.catch((error) => Effect.succeed({ value: undefined, error: messageOf(error) }))
  )

const recentHistory = (breaker: CircuitBreaker["Service"], scopes: ReadonlyArray<BreakerView>) =>
  Effect.forEach(
    scopes,
    (v) =>
      breaker
        .history(v.scope, { limit: HISTORY_ROWS })
        .pipe(Effect.catchTag("ScopeNotFound", () => Effect.succeed([]))),
    { concurrency: 4 }
  ).pipe(
    Effect.map((lists) =>
      lists
        .flat()
        .sort((a, b) => Date.parse(b.at) - Date.parse(a.at))
        .slice(0, HISTORY_ROWS)
    )
  )

const panelData = (problem?: FormProblem) =>
  Effect.gen(function* () {
    const breaker = yield* CircuitBreaker
    const principal = yield* CurrentPrincipal
    const now = yield* Clock.currentTimeMillis
    const scopes = yield* breaker.list
    const [history, pending, settings] = yield* Effect.all(
      [
        orUnavailable(recentHistory(breaker, scopes)),
        orUnavailable(breaker.pendingApprovals()),
        orUnavailable(breaker.settings)
      ],
      { concurrency: "unbounded" }
    )
    const session = principal.session
    const data: BreakerPanelData = {
      scopes,
      history: history.value ?? [],
      historyError: history.error,
      pending: pending.value ?? [],
      pendingError: pending.error,
      settings: settings.value,
      canTrip: principal.permissions.has("TRIP_CIRCUIT_BREAKER"),
      canReset: principal.permissions.has("RESET_CIRCUIT_BREAKER"),
      passwordNeeded:
        session !== undefined && now - session.authenticatedAt.getTime() >= REAUTH_WINDOW_MINUTES * 60_000,
      csrfToken: session?.csrfToken ?? "",
      personId: principal.person ?? principal.id,
      now,
      problem
    }
    return data
  })

const fullPage = (notice: string | undefined, problem?: FormProblem, status = 200) =>
  Effect.flatMap(panelData(problem), (data) =>
    page(TITLE, breakerPage({ ...data, notice, streamUrl: STREAM_URL, assets: { css: css.url, js: js.url } }), {
      status
    })
  )

// ---------------------------------------------------------------------------------------------
// Form posts.

/** Refusals shown next to the form; anything else is answered by the error page. */
const Refusal = Schema.Union([
  BadRequest,
  ReauthenticationRequired,
  ScopeNotFound,
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

/** The reason as typed (to give it back), even when the form did not decode. */
const typedReason = Effect.gen(function* () {
  const request = yield* HttpServerRequest.HttpServerRequest
  const params = yield* request.urlParamsBody
  return Option.getOrElse(UrlParams.getFirst(params, "reason"), () => "").slice(0, 2000)
}).pipe(Effect.orElseSucceed(() => ""))

/**
 * Runs a form's change and answers: the console with a notice (htmx) or a redirect (303); on a
 * refusal, the console or the page with the message next to the form, under the refusal's status.
 */
const submit = <E, R>(action: BreakerAction, change: Effect.Effect<{ scope: string; notice: NoticeKey }, E, R>) =>
  Effect.gen(function* () {
    const htmx = yield* isHtmx
    return yield* change.pipe(
      Effect.flatMap(({ scope, notice }) =>
        htmx
          ? Effect.map(panelData(), (data) => fragment(breakerConsole({ ...data, notice: noticeText(notice, scope) })))
          : Effect.succeed(
              HttpServerResponse.redirect(`/breaker?notice=${notice}&scope=${encodeURIComponent(scope)}`, {
                status: 303
              })
            )
      ),
      Effect.catchIf(isRefusal, (refusal) =>
        Effect.gen(function* () {
          const answer = classify(refusal)
          const params = yield* HttpRouter.params
          const problem: FormProblem = {
            scope: params.scope ?? "",
            action,
            ...(params.id === undefined ? {} : { requestId: params.id }),
            message: answer.message,
            issues: answer.issues ?? [],
            reason: yield* typedReason,
            passwordNeeded: refusal._tag === "ReauthenticationRequired"
          }
          const response = htmx
            ? yield* Effect.map(panelData(problem), (data) =>
                fragment(breakerConsole({ ...data, notice: undefined })).pipe(
                  HttpServerResponse.setStatus(answer.status)
                )
              )
            : yield* fullPage(undefined, problem, answer.status)
          return HttpServerResponse.setHeaders(response, answer.headers ?? {})
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
