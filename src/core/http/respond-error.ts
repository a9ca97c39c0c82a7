/**
 * Turns the failure of a request into its response. Known errors become 4xx/503 answers that say
 * what is wrong; anything else is a 500 that carries only the request id, its cause logged.
 */
import { Cause, Effect, Schema } from "effect"
import { type HttpServerRequest, HttpServerResponse } from "effect/http"
import { errorPage } from "../../../views/error-page.ts"
import type { Principal } from "../auth/access.ts"
import { isDatabaseOutage } from "../db/outage.ts"
import { badRequestFrom, type Issue } from "../errors/generic.ts"
import { carriedAnswer, type HttpAnswer } from "../errors/http-answer.ts"
import type { Navigation } from "../navigation.ts"
import type { ConsoleParts } from "./console-parts.ts"
import { INTERNAL_MESSAGE, wantsJson } from "./negotiation.ts"
import { renderLayout } from "./page.ts"
import { safeNextPath } from "./safe-redirect.ts"

interface Answer {
  readonly status: number
  readonly code: string
  readonly title: string
  readonly message: string
  readonly issues?: ReadonlyArray<Issue>
  readonly details?: unknown
  readonly headers?: Record<string, string>
  /** Logged with its cause: a bug or an outage, not the client's mistake. */
  readonly unexpected?: boolean
}

const tagOf = (error: unknown): string | undefined =>
  typeof error === "object" && error !== null && "_tag" in error && typeof error._tag === "string"
    ? error._tag
    : undefined

const field = (error: unknown, name: string): unknown =>
  typeof error === "object" && error !== null && name in error ? (error as Record<string, unknown>)[name] : undefined

const str = (value: unknown, fallback: string) => (typeof value === "string" ? value : fallback)

const internal = (message: string): Answer => ({
  status: 500,
  code: "internal",
  title: "Internal error",
  message,
  unexpected: true
})

/** Error tag → answer, for errors a module declares answers for instead of carrying them. */
export type DeclaredAnswers = ReadonlyMap<string, HttpAnswer>

/**
 * Classifies one failure: a typed error that carries its answer (or whose tag a module declared)
 * answers with its own message, `details`, `issues` and `Retry-After`; the transport's and the
 * database's failures are known here; anything else is a 500.
 */
export const classify = (error: unknown, declared: DeclaredAnswers = new Map()): Answer => {
  if (Schema.isSchemaError(error)) {
    const bad = badRequestFrom(error)
    return { status: 400, code: "bad_request", title: "Bad request", message: bad.message, issues: bad.issues }
  }
  const tag = tagOf(error)
  const known = carriedAnswer(error) ?? (tag === undefined ? undefined : declared.get(tag))
  if (known !== undefined) {
    const { status, code, title } = known
    const issues = field(error, "issues")
    const details = field(error, "details")
    const retry = field(error, "retryAfterSeconds")
    return {
      status,
      code,
      title,
      message: str(field(error, "message"), title.toLowerCase()),
      ...(Array.isArray(issues) ? { issues: issues as ReadonlyArray<Issue> } : {}),
      ...(details === undefined ? {} : { details }),
      ...(typeof retry === "number" ? { headers: { "retry-after": String(Math.max(1, Math.ceil(retry))) } } : {})
    }
  }
  switch (tag) {
    case "SqlError":
      // The database being unreachable is an outage, not a bug: 503, and the cause is logged.
      return isDatabaseOutage(error)
        ? {
            status: 503,
            code: "database_unavailable",
            title: "Database unavailable",
            message: "the database cannot be reached right now: try again shortly",
            unexpected: true
          }
        : internal(INTERNAL_MESSAGE)
    case "HttpServerError":
      return classify(field(error, "reason"), declared)
    case "RouteNotFound":
      return { status: 404, code: "not_found", title: "Not found", message: "There is no page at this address." }
    case "RequestParseError":
      return str(field(error, "reason"), "") === "BodyTooLarge"
        ? {
            status: 413,
            code: "payload_too_large",
            title: "Request too large",
            message: "the request body is larger than this route accepts"
          }
        : {
            status: 400,
            code: "bad_request",
            title: "Bad request",
            message: `the request body could not be read: ${str(field(error, "description"), "malformed body")}`
          }
    case "HttpBodyError":
      return internal("the response could not be encoded")
    default:
      return internal(INTERNAL_MESSAGE)
  }
}

const answerOf = (cause: Cause.Cause<unknown>, declared: DeclaredAnswers): Answer => {
  const failure = cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined) return classify(failure.error, declared)
  if (cause.reasons.length > 0 && cause.reasons.every(Cause.isInterruptReason))
    return { status: 503, code: "interrupted", title: "Interrupted", message: "the request was interrupted" }
  return internal(INTERNAL_MESSAGE)
}

/** Where a page request without a session goes: the login page, back here afterwards. */
const toLogin = (request: HttpServerRequest.HttpServerRequest): HttpServerResponse.HttpServerResponse => {
  const htmx = request.headers["hx-request"] === "true"
  // For htmx, come back to the page the fragment belongs to, not to the fragment.
  const current = htmx ? pathOf(request.headers["hx-current-url"]) : request.url
  const next = request.method === "GET" || htmx ? safeNextPath(current) : undefined
  const location = next === undefined || next === "/" ? "/login" : `/login?next=${encodeURIComponent(next)}`
  // htmx would swap a followed redirect's login page into the fragment's place; this reloads the page.
  return htmx
    ? HttpServerResponse.empty({ status: 401, headers: { "hx-redirect": location } })
    : HttpServerResponse.redirect(location, { status: 303 })
}

const pathOf = (url: string | undefined): string | undefined => {
  if (url === undefined) return undefined
  try {
    const parsed = new URL(url)
    return `${parsed.pathname}${parsed.search}`
  } catch {
    return undefined
  }
}

export const respondToFailure = (
  cause: Cause.Cause<unknown>,
  request: HttpServerRequest.HttpServerRequest,
  requestId: string,
  principal: Principal | undefined,
  declared: DeclaredAnswers = new Map()
): Effect.Effect<HttpServerResponse.HttpServerResponse, never, Navigation | ConsoleParts> =>
  Effect.gen(function* () {
    const found = answerOf(cause, declared)
    // The rest of a body too large is not worth reading: the connection closes after the answer.
    const answer = found.status === 413 ? { ...found, headers: { ...found.headers, connection: "close" } } : found
    if (answer.unexpected === true) yield* Effect.logError("request failed", cause)
    const json = wantsJson(request)
    if (answer.status === 401 && !json) return toLogin(request)
    if (json) {
      const body = {
        error: {
          code: answer.code,
          message: answer.message,
          ...(answer.issues === undefined ? {} : { issues: answer.issues }),
          ...(answer.details === undefined ? {} : { details: answer.details }),
          requestId
        }
      }
      return HttpServerResponse.jsonUnsafe(body, { status: answer.status, headers: answer.headers ?? {} })
    }
    const body = errorPage({
      status: answer.status,
      title: answer.title,
      message: answer.message,
      requestId,
      ...(answer.issues === undefined ? {} : { issues: answer.issues })
    })
    const path = request.url.split("?")[0] ?? "/"
    const text = yield* renderLayout(`${answer.status} ${answer.title}`, body, principal, path)
    return HttpServerResponse.text(text, {
      status: answer.status,
      contentType: "text/html; charset=utf-8",
      headers: { ...answer.headers, "cache-control": "no-store" }
    })
  })
