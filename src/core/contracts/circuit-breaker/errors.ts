/**
 * The breaker's typed refusals, each carrying its HTTP answer (status and a stable `code` clients
 * can branch on).
 */
import { Schema } from "effect"
import { answer, httpAnswer } from "../../errors/http-answer.ts"

/** 404 `scope_not_found`. */
export class ScopeNotFound extends Schema.TaggedError<ScopeNotFound>()("ScopeNotFound", {
  message: Schema.String
}) {
  get [httpAnswer]() {
    return answer(404, "scope_not_found", "No such breaker scope")
  }
}

/** 409 `scope_exists`. */
export class ScopeExists extends Schema.TaggedError<ScopeExists>()("ScopeExists", { message: Schema.String }) {
  get [httpAnswer]() {
    return answer(409, "scope_exists", "Scope exists")
  }
}

/** 409 `not_tripped`: only a tripped scope can be reset. */
export class NotTripped extends Schema.TaggedError<NotTripped>()("NotTripped", {
  message: Schema.String,
  details: Schema.Unknown
}) {
  get [httpAnswer]() {
    return answer(409, "not_tripped", "Breaker not tripped")
  }
}

/** 409 `version_conflict`: another change won the compare-and-set. */
export class VersionConflict extends Schema.TaggedError<VersionConflict>()("VersionConflict", {
  message: Schema.String,
  details: Schema.Unknown
}) {
  get [httpAnswer]() {
    return answer(409, "version_conflict", "Another change won")
  }
}

/** 429 `reset_rate_limited`, with `Retry-After`. */
export class ResetRateLimited extends Schema.TaggedError<ResetRateLimited>()("ResetRateLimited", {
  message: Schema.String,
  retryAfterSeconds: Schema.Number
}) {
  get [httpAnswer]() {
    return answer(429, "reset_rate_limited", "Reset too soon")
  }
}

/** 503 `stores_unhealthy`: a reset (or another change that needs both stores) is refused. */
export class StoresUnhealthy extends Schema.TaggedError<StoresUnhealthy>()("StoresUnhealthy", {
  message: Schema.String,
  details: Schema.Unknown
}) {
  get [httpAnswer]() {
    return answer(503, "stores_unhealthy", "Stores unhealthy")
  }
}

/** 403 `approval_refused`: e.g. the requester approving their own reset. */
export class ApprovalRefused extends Schema.TaggedError<ApprovalRefused>()("ApprovalRefused", {
  message: Schema.String
}) {
  get [httpAnswer]() {
    return answer(403, "approval_refused", "Approval refused")
  }
}

/** 404 `approval_not_found`. */
export class ApprovalNotFound extends Schema.TaggedError<ApprovalNotFound>()("ApprovalNotFound", {
  message: Schema.String
}) {
  get [httpAnswer]() {
    return answer(404, "approval_not_found", "No such reset request")
  }
}

/** 409 `approval_closed`: expired, already approved, or superseded by a later trip. */
export class ApprovalClosed extends Schema.TaggedError<ApprovalClosed>()("ApprovalClosed", {
  message: Schema.String,
  details: Schema.Unknown
}) {
  get [httpAnswer]() {
    return answer(409, "approval_closed", "Reset request closed")
  }
}

export type BreakerError =
  | ScopeNotFound
  | ScopeExists
  | NotTripped
  | VersionConflict
  | ResetRateLimited
  | StoresUnhealthy
  | ApprovalRefused
  | ApprovalNotFound
  | ApprovalClosed
