/**
 * The breaker's typed refusals. Each maps to one HTTP answer in `core/http/respond-error.ts`
 * (status and a stable `code` clients can branch on).
 */
import { Schema } from "effect"

/** 404 `scope_not_found`. */
export class ScopeNotFound extends Schema.TaggedError<ScopeNotFound>()("ScopeNotFound", {
  message: Schema.String
}) {}

/** 409 `scope_exists`. */
export class ScopeExists extends Schema.TaggedError<ScopeExists>()("ScopeExists", { message: Schema.String }) {}

/** 409 `not_tripped`: only a tripped scope can be reset. */
export class NotTripped extends Schema.TaggedError<NotTripped>()("NotTripped", {
  message: Schema.String,
  details: Schema.Unknown
}) {}

/** 409 `version_conflict`: another change won the compare-and-set. */
export class VersionConflict extends Schema.TaggedError<VersionConflict>()("VersionConflict", {
  message: Schema.String,
  details: Schema.Unknown
}) {}

/** 429 `reset_rate_limited`, with `Retry-After`. */
export class ResetRateLimited extends Schema.TaggedError<ResetRateLimited>()("ResetRateLimited", {
  message: Schema.String,
  retryAfterSeconds: Schema.Number
}) {}

/** 503 `stores_unhealthy`: a reset (or another change that needs both stores) is refused. */
export class StoresUnhealthy extends Schema.TaggedError<StoresUnhealthy>()("StoresUnhealthy", {
  message: Schema.String,
  details: Schema.Unknown
}) {}

/** 403 `approval_refused`: e.g. the requester approving their own reset. */
export class ApprovalRefused extends Schema.TaggedError<ApprovalRefused>()("ApprovalRefused", {
  message: Schema.String
}) {}

/** 404 `approval_not_found`. */
export class ApprovalNotFound extends Schema.TaggedError<ApprovalNotFound>()("ApprovalNotFound", {
  message: Schema.String
}) {}

/** 409 `approval_closed`: expired, already approved, or superseded by a later trip. */
export class ApprovalClosed extends Schema.TaggedError<ApprovalClosed>()("ApprovalClosed", {
  message: Schema.String,
  details: Schema.Unknown
}) {}

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
