/**
 * A refusal (4xx) must leave the domain tables and the audit log as they were, except for the
 * evidence a refusal is meant to leave. That evidence is named here, entry by entry, with the code
 * that writes it, so anything else a refused request writes shows up as a partial write.
 */
import type { AuditRow, SessionCredential, Written } from "./state.ts"

/** Audit entries a refused request writes on purpose (by its own request id). */
export const REFUSAL_AUDIT: ReadonlyArray<{
  readonly action: string
  readonly outcomes: ReadonlyArray<string>
  readonly writtenBy: string
}> = [
  { action: "authz_denied", outcomes: ["denied"], writtenBy: "src/core/auth/access-control.ts deny: every refusal" },
  { action: "auth.login", outcomes: ["failure", "denied"], writtenBy: "src/core/auth/login.ts: every failed sign-in" },
  {
    action: "auth.lockout",
    outcomes: ["denied"],
    writtenBy: "src/core/auth/login.ts: the failure that locks an account (from an address)"
  },
  {
    action: "auth.throttle",
    outcomes: ["denied"],
    writtenBy: "src/core/auth/login.ts: the failure that throttles an address"
  },
  {
    action: "auth.distributed_attack",
    outcomes: ["denied"],
    writtenBy: "src/core/auth/login.ts: the failure that marks an account under attack"
  },
  {
    action: "auth.reauthenticate",
    outcomes: ["failure", "denied"],
    writtenBy: "src/core/auth/login.ts: a wrong or locked password on a dangerous action"
  },
  { action: "breaker.reset", outcomes: ["failure"], writtenBy: "src/core/breaker/resets.ts auditRefusal" },
  { action: "breaker.reset_approve", outcomes: ["failure"], writtenBy: "src/core/breaker/resets.ts auditRefusal" }
]

/**
 * Also allowed on a refusal:
 * - `auth.reauthenticate` success: a right password restarts the session's re-authentication
 *   window (its `authenticated_at`, and the user's failed attempts are forgiven) even when the
 *   action behind it is then refused, e.g. a trip of a scope that does not exist;
 * - a failed sign-in or re-authentication (wrong password, unknown or disabled account) adds at
 *   most one `login_failures` row: the throttle counts it whatever the answer;
 * - an approval of an expired or superseded reset request closes the request (status `expired` or
 *   `superseded`) and answers 409 (resets.ts `closed`);
 * - the breaker's verifier ends quiet periods in the background (system actor, no request id,
 *   `quiet_period_ended` history row, the scope from QUIET_PERIOD to OPEN), whatever the case does.
 */
const BACKGROUND_AUDIT = ["breaker.quiet_period_ended"]

const short = (value: unknown) => {
  const text = value === undefined ? "(none)" : JSON.stringify(value)
  return text.length > 300 ? `${text.slice(0, 300)}…` : text
}

const describeEntry = (e: AuditRow) =>
  `audit entry ${e.action} (${e.outcome}${e.reason === null ? "" : `: ${e.reason}`}) by ${e.actor_type} ${e.actor_id} on ${e.resource_type} ${e.resource_id ?? ""}, request ${e.request_id ?? "none"}`

const fieldOf = (row: unknown, index: number): unknown => (Array.isArray(row) ? row[index] : undefined)
const statusOf = (row: unknown): unknown =>
  typeof row === "object" && row !== null && "status" in row ? row.status : undefined

/** The writes of a refused request that are not refusal evidence; empty when there is no partial write. */
export const partialWrites = (
  written: Written,
  refused: {
    readonly status: number
    readonly requestId: string | undefined
    readonly session: SessionCredential | undefined
  }
): ReadonlyArray<string> => {
  const problems: Array<string> = []
  const quietEnded = new Set(written.transitions.filter((t) => t.kind === "quiet_period_ended").map((t) => t.scope))
  for (const t of written.transitions)
    if (t.kind !== "quiet_period_ended") problems.push(`breaker_transition ${t.id}: ${t.kind} on ${t.scope}`)

  let failedPasswords = 0
  let reauthenticated = false
  let approvalRefused = false
  for (const e of written.audit) {
    if (e.request_id === null && e.actor_type === "system" && BACKGROUND_AUDIT.includes(e.action)) continue
    if (refused.requestId !== undefined && e.request_id === refused.requestId) {
      if (REFUSAL_AUDIT.some((r) => r.action === e.action && r.outcomes.includes(e.outcome))) {
        if ((e.action === "auth.login" || e.action === "auth.reauthenticate") && e.outcome === "failure")
          failedPasswords++
        if (e.action === "breaker.reset_approve") approvalRefused = true
        continue
      }
      if (e.action === "auth.reauthenticate" && e.outcome === "success") {
        reauthenticated = true
        continue
      }
    }
    problems.push(describeEntry(e))
  }

  let failuresAdded = 0
  for (const c of written.changes) {
    if (c.table === "breaker_scope" && quietEnded.has(c.key)) continue
    if (c.table === "login_failures" && c.before === undefined) {
      failuresAdded++
      continue
    }
    if (c.table === "login_failures" && c.after === undefined && reauthenticated) continue
    if (
      c.table === "sessions" &&
      reauthenticated &&
      c.key === refused.session?.idHash &&
      // user, token, created and expiry unchanged: only `authenticated_at` moved.
      [0, 1, 2, 4].every((i) => JSON.stringify(fieldOf(c.before, i)) === JSON.stringify(fieldOf(c.after, i)))
    )
      continue
    if (
      c.table === "breaker_reset_request" &&
      refused.status === 409 &&
      approvalRefused &&
      statusOf(c.before) === "pending" &&
      (statusOf(c.after) === "expired" || statusOf(c.after) === "superseded")
    )
      continue
    problems.push(`${c.table} ${c.key}: ${short(c.before)} → ${short(c.after)}`)
  }
  if (failuresAdded > failedPasswords)
    problems.push(`login_failures: ${failuresAdded} rows added, but ${failedPasswords} failed passwords audited`)
  return problems
}
