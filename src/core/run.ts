/**
 * Runs a program as the process' main fiber. SIGTERM and SIGINT interrupt it, so servers drain
 * and finalizers run; a stop by signal exits 0. A configuration error prints one line naming the
 * variables and exits 2; a failure that names its exit code (the CLI's help, asked for or shown for
 * a bare command group: 0) exits with it; any other failure exits 1.
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Cause, Effect, Exit, Runtime, Schema } from "effect"
import { ConfigInvalid } from "./config.ts"

/** A command used wrongly (a bad flag value, a missing user): one line on stderr, exit 2. */
export class CommandUsageError extends Schema.TaggedError<CommandUsageError>()("CommandUsageError", {
  message: Schema.String
}) {}

/** The exit code a failure names itself (`Runtime.errorExitCode`; 1 when it names none). */
const namedExitCode = (cause: Cause.Cause<unknown>): number => {
  const failure = cause.reasons.find(Cause.isFailReason)
  return failure === undefined ? 1 : Runtime.getErrorExitCode(failure.error)
}

export const runMain = <A, E>(program: Effect.Effect<A, E>): void => {
  const guarded = program.pipe(
    Effect.catchIf(
      (error): error is E & (ConfigInvalid | CommandUsageError) =>
        error instanceof ConfigInvalid || error instanceof CommandUsageError,
      (error) =>
        Effect.sync(() => {
          process.stderr.write(`breakwater: ${error.message}\n`)
          process.exitCode = 2
        })
    )
  )
  NodeRuntime.runMain(guarded, {
    disableErrorReporting: false,
    teardown: (exit, onExit) => {
      if (Exit.isSuccess(exit)) return onExit(typeof process.exitCode === "number" ? process.exitCode : 0)
      const interruptedOnly = exit.cause.reasons.length > 0 && exit.cause.reasons.every(Cause.isInterruptReason)
      onExit(interruptedOnly ? 0 : namedExitCode(exit.cause))
    }
  })
}
