/**
 * Runs a program as the process' main fiber. SIGTERM and SIGINT interrupt it, so servers drain
 * and finalizers run; a stop by signal exits 0. How a failure ends a command is decided once, in
 * {@link exitCodeOf}, for a command run in this process and for one sent to the running server
 * over its control socket alike.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Console, Effect, Exit, Schema } from "effect"
import { CliError } from "effect/cli"
import { ConfigInvalid } from "./config.ts"
import { DataDirInUse } from "./db/data-dir-lock.ts"

/** A command used wrongly (a bad flag value, a missing user): one line on stderr, exit 2. */
export class CommandUsageError extends Schema.TaggedError<CommandUsageError>()("CommandUsageError", {
  message: Schema.String
}) {}

/**
 * A command that has said what went wrong itself and ends with this exit code (`audit verify`
 * on a broken chain: 1; `breaker status` with a scope UNKNOWN: 3).
 */
export class CommandExit extends Schema.TaggedError<CommandExit>()("CommandExit", {
  code: Schema.Int
}) {}

/** A refusal (the command was right, the system said no): `breakwater: refused: …`, exit 1. */
export const refused = (message: string) =>
  Effect.andThen(Console.error(`breakwater: refused: ${message}`), Effect.fail(new CommandExit({ code: 1 })))

/** Failures an operator reads as one line (`breakwater: …`), with their exit code. */
const oneLine = (error: unknown): { readonly message: string; readonly code: number } | undefined => {
  if (error instanceof ConfigInvalid || error instanceof CommandUsageError) return { message: error.message, code: 2 }
  if (error instanceof DataDirInUse) return { message: error.message, code: 1 }
  return undefined
}

const interruptedOnly = (cause: Cause.Cause<unknown>) =>
  cause.reasons.length > 0 && cause.reasons.every(Cause.isInterruptReason)

/**
 * The exit code of a finished command, after telling the operator (through `Console`) what a
 * failure was: one line for the known ones; effect/cli has already shown its own (help: 0; a
 * usage error: its line and a hint, 2); anything else is a bug, shown whole, 1.
 */
export const exitCodeOf = (exit: Exit.Exit<unknown, unknown>): Effect.Effect<number> => {
  if (Exit.isSuccess(exit)) return Effect.succeed(0)
  if (interruptedOnly(exit.cause)) return Effect.succeed(130)
  const failure = exit.cause.reasons.find(Cause.isFailReason)
  if (failure !== undefined) {
    const error = failure.error
    if (error instanceof CommandExit) return Effect.succeed(error.code)
    const line = oneLine(error)
    if (line !== undefined) return Effect.as(Console.error(`breakwater: ${line.message}`), line.code)
    if (CliError.isCliError(error))
      return Effect.succeed(error._tag === "ShowHelp" && error.errors.length === 0 ? 0 : 2)
  }
  return Effect.as(Console.error(Cause.pretty(exit.cause)), 1)
}

export const runMain = <A, E>(program: Effect.Effect<A, E>): void => {
  const reported: Effect.Effect<number, E> = Effect.exit(program).pipe(
    Effect.flatMap((exit) =>
      // A stop by signal stays an interruption, so the runtime exits 0 after the finalizers.
      Exit.isFailure(exit) && interruptedOnly(exit.cause) ? Effect.failCause(exit.cause) : exitCodeOf(exit)
    )
  )
  NodeRuntime.runMain(reported, {
    disableErrorReporting: true,
    teardown: (exit, onExit) => onExit(Exit.isSuccess(exit) && typeof exit.value === "number" ? exit.value : 0)
  })
}
