/**
 * The generic typed errors every part of the application may fail with (bad input, not found,
 * conflict, too many requests, unavailable), each carrying its HTTP answer, and the field-level
 * issues of a schema failure. A capability's own errors live with it and carry their own answers.
 */
import { Schema, SchemaIssue } from "effect"
import { answer, httpAnswer } from "./http-answer.ts"

export const Issue = Schema.Struct({ path: Schema.String, message: Schema.String })
export type Issue = typeof Issue.Type

/** 400 `bad_request`, with the field-level problems. */
export class BadRequest extends Schema.TaggedError<BadRequest>()("BadRequest", {
  message: Schema.String,
  issues: Schema.Array(Issue)
}) {
  get [httpAnswer]() {
    return answer(400, "bad_request", "Bad request")
  }
}

/** 413: the body is larger than the route accepts (answered before the body is read). */
export class PayloadTooLarge extends Schema.TaggedError<PayloadTooLarge>()("PayloadTooLarge", {
  message: Schema.String,
  limitBytes: Schema.Number
}) {
  get [httpAnswer]() {
    return answer(413, "payload_too_large", "Request too large")
  }
}

/** 404 `not_found`. */
export class NotFound extends Schema.TaggedError<NotFound>()("NotFound", { message: Schema.String }) {
  get [httpAnswer]() {
    return answer(404, "not_found", "Not found")
  }
}

/** 409 `conflict`. */
export class Conflict extends Schema.TaggedError<Conflict>()("Conflict", {
  message: Schema.String,
  details: Schema.optional(Schema.Unknown)
}) {
  get [httpAnswer]() {
    return answer(409, "conflict", "Conflict")
  }
}

/** 429 `too_many_requests`, with `Retry-After`. */
export class TooManyRequests extends Schema.TaggedError<TooManyRequests>()("TooManyRequests", {
  message: Schema.String,
  retryAfterSeconds: Schema.Number
}) {
  get [httpAnswer]() {
    return answer(429, "too_many_requests", "Too many requests")
  }
}

/** 503 `unavailable`: a store the action needs cannot be reached. */
export class ServiceUnavailable extends Schema.TaggedError<ServiceUnavailable>()("ServiceUnavailable", {
  message: Schema.String,
  details: Schema.optional(Schema.Unknown)
}) {
  get [httpAnswer]() {
    return answer(503, "unavailable", "Unavailable")
  }
}

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
