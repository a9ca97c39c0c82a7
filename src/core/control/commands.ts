/**
 * The server's side of a CLI command sent over the control socket: the same command tree as the
 * `breakwater` process builds, but each module's commands run over the module's live context
 * (no second copy of anything), with the client's terminal for output and questions.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Console, Effect, Layer, type Scope } from "effect"
import { CliOutput } from "effect/cli"
import { ModuleContexts } from "../application.ts"
import { CommandInput } from "../cli/command-input.ts"
import { commandTree, runTree } from "../cli/tree.ts"
import type { Module } from "../module.ts"
import { CommandUsageError, exitCodeOf } from "../run.ts"
import { version } from "../version.ts"
import type { CommandRunner } from "./server.ts"

/**
 * effect/cli's wizard prompts on the terminal of the process it runs in: here that is the
 * server's, not the operator's, so it is refused rather than left to wait on the server's stdin.
 */
const noWizard = new CommandUsageError({
  message: "--wizard cannot run through the running server; give the command its flags (see --help)"
})

const alreadyServing = new CommandUsageError({
  message: "the server is already running on this data directory (this command was sent to it); stop it first"
})

/** Runs commands of `modules` (core included) over the running composition. */
export const serverCommandRunner = (
  modules: ReadonlyArray<Module>
): Effect.Effect<CommandRunner, never, ModuleContexts | Scope.Scope> =>
  Effect.gen(function* () {
    const contexts = yield* ModuleContexts
    // Built once: effect/cli needs the platform's services even where no command uses them.
    const platform = yield* Layer.build(NodeServices.layer)
    const run = runTree(
      commandTree(modules, (name) => Layer.succeedContext(contexts.of(name)), Effect.fail(alreadyServing)),
      version
    )
    return (argv, terminal) =>
      Effect.exit(argv.includes("--wizard") ? Effect.fail(noWizard) : run(argv)).pipe(
        Effect.flatMap(exitCodeOf),
        Effect.provideService(CommandInput, terminal.input),
        Effect.provide(CliOutput.layer(CliOutput.defaultFormatter({ colors: terminal.color }))),
        Effect.provide(platform),
        Effect.provideService(Console.Console, terminal.console),
        Effect.annotateLogs({
          command: argv
            .filter((a) => !a.startsWith("-"))
            .slice(0, 3)
            .join(" ")
        })
      )
  })
