/**
 * Typed HTTP errors and the mapping of every failure to a response: decode failures → 400 naming
 * the field and the problem, unknown route → 404, unexpected → 500 with the request id (the cause
 * is logged, never sent). Pages get HTML, `/api/*` and JSON clients get JSON.
 */
import { Schema, SchemaIssue } from "effect"
import type { HttpServerRequest } from "effect/http"

export const Issue = Schema.Struct({ path: Schema.String, message: Schema.String })
export type Issue = typeof Issue.Type

export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", {
  message: Schema.String,
  issues: Schema.Array(Issue)
}) {}

/** 413: the body is larger than the route accepts (answered before the body is read). */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", {
  message: Schema.String,
  limitBytes: Schema.Number
}) {}

export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", { message: Schema.String }) {}

export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {
  message: Schema.String,
  details: Schema.optional(Schema.Unknown)
}) {}

export class TooManyRequests extends Schema.TaggedError<TooManyRequests>()("TooManyRequests", {
  message: Schema.String,
  retryAfterSeconds: Schema.Number
}) {}

export class ServiceUnavailable extends Schema.TaggedError<ServiceUnavailable>()("ServiceUnavailable", {
  message: Schema.String,
  details: Schema.optional(Schema.Unknown)
}) {}

/** What a bug is answered with: nothing about the cause, which is logged; only the request id. */
export const INTERNAL_MESSAGE = "Something went wrong on our side."
/** The JSON body of a 500, for the paths that build it without `respondToFailure`. */
export const internalErrorJson = (requestId: string): string =>
  JSON.stringify({ error: { code: "internal", message: INTERNAL_MESSAGE, requestId } })

const formatter = SchemaIssue.makeFormatterStandardSchemaV1()

/** The field-level problems of a schema failure, with dotted paths (`reason`, `items.0.name`). */
export const issuesOf = (error: Schema.SchemaError): ReadonlyArray<Issue> =>
  formatter(error.issue).issues.map((i) => ({
    path: (i.path ?? []).map((p) => String(typeof p === "object" && p !== null ? p.key : p)).join("."),
    message: i.message
  }))

export const badRequestFrom = (error: Schema.SchemaError): BadRequest => {
  const issues = issuesOf(error)
  const summary = issues.map((i) => (i.path === "" ? i.message : `${i.path}: ${i.message}`)).join("; ")
  return new BadRequest({ message: `invalid request: ${summary}`, issues })
}

/** Whether the client wants JSON rather than a page. */
export const wantsJson = (request: HttpServerRequest.HttpServerRequest): boolean => {
  const path = request.url.split("?")[0] ?? ""
  if (path.startsWith("/api/") || path === "/readyz") return true
  const accept = request.headers.accept ?? ""
  return accept.includes("application/json") && !accept.includes("text/html")
}
