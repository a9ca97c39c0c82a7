/**
 * Core's own retention jobs. Expired sessions come first: a session row past its absolute expiry
 * can never be presented again, and while it stays it is a credential-shaped row (user, address,
 * user agent, CSRF token) with no further use. Sign-ins themselves stay in the audit log for good
 * (`auth.login`), so keeping dead sessions longer would add nothing an investigation needs.
 */
import { Schema } from "effect"
import { defineSetting } from "../settings/spec.ts"
import type { RetentionJob } from "./job.ts"

/**
 * Days an expired session stays. Default 0: the identity sweeper already deletes a session the
 * moment it expires (idle or absolute), so a longer default would promise a history the system
 * does not keep; this job is the backstop for the absolute expiry if that sweeper is not running.
 */
export const sessionRetentionDays = defineSetting({
  key: "identity.session_retention_days",
  schema: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 365 })),
  default: 0,
  description:
    "Days a console session stays in the database after its absolute expiry before retention deletes it. Sign-ins stay in the audit log regardless.",
  permission: "MANAGE_SYSTEM_CONFIG",
  unit: "days"
})

/** Sessions past `expires_at` (their absolute lifetime, `SESSION_MAX_HOURS`) plus the period. */
export const expiredSessionsJob: RetentionJob = {
  name: "identity.expired_sessions",
  description: "Console sessions past their absolute expiry.",
  table: "sessions",
  ageColumn: "expires_at",
  period: sessionRetentionDays
}

/** The jobs core registers at start (the application's core module and the CLI use this list). */
export const coreRetentionJobs: ReadonlyArray<RetentionJob> = [expiredSessionsJob]
