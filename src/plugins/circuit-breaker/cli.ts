/**
 * `breakwater breaker status|trip|reset|approve`: the circuit breaker from the shell, for the
 * operator whose console is unreachable. Running the command is the acknowledgement; the reason is
 * checked like the API's (at least 20 characters). Resets and approvals may act as a named user
 * (`--as EMAIL`, who must hold RESET_CIRCUIT_BREAKER): four-eyes compares people, so an approval
 * always names one, and so does a reset when two approvals are required. Exit codes: 0 done, 1
 * refused (not tripped, another change won, too soon, a store unhealthy, the same person), 2
 * misused (bad reason, scope or user), 3 when `status` reads a state as `UNKNOWN` (treat it as
 * tripped).
 */
import { userInfo } from "node:os"
import { Console, Effect, Option, Schema } from "effect"
import { Command, Flag } from "effect/cli"
import { type Actor, systemActor } from "../../core/audit/entry.ts"
import { Permissions } from "../../core/auth/permissions.ts"
import { Email, Users } from "../../core/auth/users.ts"
import { checkedFlag } from "../../core/cli/checked-flag.ts"
import { ScopeNotFound } from "../../core/contracts/circuit-breaker/errors.ts"
import { type BreakerView, GLOBAL_SCOPE, Reason, ScopeName } from "../../core/contracts/circuit-breaker/model.ts"
import { CircuitBreaker } from "../../core/contracts/circuit-breaker/service.ts"
import { CommandExit, CommandUsageError, refused as refusal } from "../../core/run.ts"

/** Exit code of `status` when a state cannot be read. */
export const EXIT_UNKNOWN = 3

/** The CLI's system actor, named after the operating-system user who ran it when known. */
const actor = Effect.gen(function* () {
  const base = systemActor("cli")
  const user = yield* Effect.try(() => userInfo().username).pipe(Effect.option)
  return Option.match(user, {
    onNone: (): Actor => base,
    onSome: (name): Actor => ({ ...base, name: `cli (${name})` })
  })
})

/**
 * The user `--as` names, as the actor: enabled and allowed to reset. The CLI runs with the
 * database's rights, so this is a statement of who acts, recorded in the audit log as that user.
 */
const actingUser = (email: string) =>
  Effect.gen(function* () {
    const address = yield* checkedFlag(Email, "as", email.trim())
    const found = yield* (yield* Users).findByEmail(address)
    if (Option.isNone(found) || found.value.disabled)
      return yield* new CommandUsageError({ message: `--as: there is no enabled user ${address}` })
    const user = found.value
    if (!(yield* Permissions).ofRole(user.role).has("RESET_CIRCUIT_BREAKER"))
      return yield* new CommandUsageError({
        message: `--as: ${address} (role ${user.role}) may not reset the breaker (RESET_CIRCUIT_BREAKER)`
      })
    return { type: "user", id: user.id, name: `${user.displayName} (cli)` } satisfies Actor
  })

/** The actor of a reset or approval: the `--as` user when given, else the CLI's system actor. */
const resetActor = (as: Option.Option<string>) => (Option.isSome(as) ? actingUser(as.value) : actor)

const asFlag = Flag.String("as").pipe(
  Flag.withDescription("Act as this user (email): needed to approve, and to request a reset that needs approval."),
  Flag.optional
)

/** A refusal: one line on stderr and exit 1 (the command was right, the breaker said no). */
const refused = (error: { readonly message: string }) => refusal(error.message)

/** What the breaker may answer a reset (and an approval) that is a refusal, not a misuse: exit 1. */
const resetRefusals = {
  NotTripped: refused,
  VersionConflict: refused,
  ResetRateLimited: refused,
  StoresUnhealthy: refused,
  ApprovalRefused: refused
} as const

const withBreaker = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  effect.pipe(
    // An unknown scope is the user's mistake: one line and exit 2.
    Effect.mapError((error) =>
      error instanceof ScopeNotFound ? new CommandUsageError({ message: error.message }) : error
    )
  )

const unknown = (view: BreakerView) => view.state === "UNKNOWN" || view.effective_state === "UNKNOWN"

/** One line per scope: what a consumer must obey first, then who and why. */
export const describeView = (view: BreakerView): string => {
  const parts = [view.scope, view.effective_state]
  if (unknown(view)) parts.push("(treat as tripped)")
  else parts.push(view.trading_allowed ? "(trading allowed)" : "(halted)")
  if (view.state !== view.effective_state && view.state !== "UNKNOWN") parts.push(`own state ${view.state}`)
  if (view.halted_by !== null && view.halted_by !== view.scope) parts.push(`halted by ${view.halted_by}`)
  if (view.version !== null) parts.push(`version ${view.version}`)
  if (view.state === "TRIPPED" && view.tripped_at !== null)
    parts.push(
      `tripped ${view.tripped_at} by ${view.tripped_by?.name ?? "unknown"} (${view.trip_source ?? "unknown"}): ${JSON.stringify(view.trip_reason ?? "")}`
    )
  if (view.state === "QUIET_PERIOD" && view.quiet_until !== null) parts.push(`quiet until ${view.quiet_until}`)
  if (view.warning !== null) parts.push(`warning: ${view.warning}`)
  return parts.join("  ")
}

const scopeFlag = Flag.String("scope")
const scopeDescription = "The scope: global, or a named venue or strategy."
const reasonFlag = Flag.String("reason").pipe(
  Flag.withDescription("Why, for the record and the other operators (at least 20 characters).")
)

const status = Command.make(
  "status",
  {
    scope: scopeFlag.pipe(Flag.withDescription("Optional: only this scope (default: every scope)."), Flag.optional),
    json: Flag.Boolean("json").pipe(
      Flag.withDescription("Print the views as JSON, as the API answers them."),
      Flag.withDefault(false)
    )
  },
  ({ scope, json }) =>
    withBreaker(
      Effect.gen(function* () {
        const breaker = yield* CircuitBreaker
        const views = Option.isSome(scope)
          ? [yield* breaker.read(yield* checkedFlag(ScopeName, "scope", scope.value.trim()))]
          : yield* breaker.list
        if (json) {
          const state = views.find((v) => v.scope === GLOBAL_SCOPE)?.effective_state
          yield* Console.log(JSON.stringify(Option.isSome(scope) ? views[0] : { state, scopes: views }))
        } else {
          for (const view of views) yield* Console.log(describeView(view))
        }
        if (views.some(unknown)) return yield* new CommandExit({ code: EXIT_UNKNOWN })
      })
    )
).pipe(Command.withDescription("Print each scope's state; exits 3 when a state is UNKNOWN (treat as tripped)."))

const trip = Command.make(
  "trip",
  {
    scope: scopeFlag.pipe(
      Flag.withDescription(`Optional: the scope to halt (default: ${GLOBAL_SCOPE}), or a named venue or strategy.`),
      Flag.withDefault(GLOBAL_SCOPE)
    ),
    reason: reasonFlag
  },
  ({ scope, reason }) =>
    withBreaker(
      Effect.gen(function* () {
        const name = yield* checkedFlag(ScopeName, "scope", scope.trim())
        const why = yield* checkedFlag(Reason, "reason", reason)
        const outcome = yield* (yield* CircuitBreaker).trip({
          scope: name,
          reason: why.trim(),
          source: "manual",
          actor: yield* actor
        })
        yield* Console.log(
          outcome.changed
            ? `tripped ${name}: TRIPPED at ${outcome.record.tripped_at ?? "?"}, version ${outcome.record.version}`
            : `${name} was already tripped (since ${outcome.record.tripped_at ?? "?"}); the reason was recorded`
        )
        if (!outcome.persisted)
          yield* Console.log(
            "warning: PostgreSQL is unavailable; the trip is published and will be stored when it returns"
          )
        if (!outcome.published)
          yield* Console.log(
            "warning: the trip could not be published to Redis; a running server's verifier publishes it once Redis answers"
          )
      }).pipe(Effect.catchTag("StoresUnhealthy", refused))
    )
).pipe(Command.withDescription("Trip (halt) a scope, global by default. Running the command is the acknowledgement."))

const reset = Command.make(
  "reset",
  {
    scope: scopeFlag.pipe(Flag.withDescription(`Required: ${scopeDescription}`)),
    reason: reasonFlag,
    as: asFlag
  },
  ({ scope, reason, as }) =>
    withBreaker(
      Effect.gen(function* () {
        const name = yield* checkedFlag(ScopeName, "scope", scope.trim())
        const why = yield* checkedFlag(Reason, "reason", reason)
        const who = yield* resetActor(as)
        const outcome = yield* (yield* CircuitBreaker).reset({ scope: name, reason: why.trim(), actor: who })
        if (outcome.kind === "reset") {
          const until = outcome.record.quiet_until
          yield* Console.log(
            `reset ${name}: ${outcome.record.state}${until === null ? "" : ` until ${until}`}, version ${outcome.record.version}`
          )
        } else {
          yield* Console.log(
            `reset of ${name} requested (request ${outcome.request.id}); another operator must approve it by ${outcome.request.expires_at}`
          )
        }
      }).pipe(Effect.catchTags(resetRefusals))
    )
).pipe(Command.withDescription("Reset a tripped scope into its quiet period (or request a reset needing approval)."))

const RequestId = Schema.String.check(
  Schema.isPattern(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, {
    message: "must be a reset request id (a UUID)"
  })
)

const approve = Command.make(
  "approve",
  {
    scope: scopeFlag.pipe(Flag.withDescription(`Required: ${scopeDescription}`)),
    request: Flag.String("request").pipe(Flag.withDescription("The reset request's id (from `reset` or the console).")),
    as: Flag.String("as").pipe(Flag.withDescription("Approve as this user (email); not the one who requested it."))
  },
  ({ scope, request, as }) =>
    withBreaker(
      Effect.gen(function* () {
        const name = yield* checkedFlag(ScopeName, "scope", scope.trim())
        const id = yield* checkedFlag(RequestId, "request", request.trim())
        const who = yield* actingUser(as)
        const outcome = yield* (yield* CircuitBreaker).approve({ scope: name, requestId: id, actor: who })
        if (outcome.kind === "reset") {
          const until = outcome.record.quiet_until
          yield* Console.log(
            `approved: ${name} reset to ${outcome.record.state}${until === null ? "" : ` until ${until}`}, version ${outcome.record.version}`
          )
        }
      }).pipe(Effect.catchTags({ ...resetRefusals, ApprovalNotFound: refused, ApprovalClosed: refused }))
    )
).pipe(Command.withDescription("Approve another operator's pending reset request, as the user named by --as."))

export const breakerCommand = Command.make("breaker").pipe(
  Command.withDescription("The circuit breaker: status, trip, reset, approve."),
  Command.withSubcommands([status, trip, reset, approve])
)
