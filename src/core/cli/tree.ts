/**
 * The `breakwater` command tree for a module list: `serve`, then the commands of core (`migrate`,
 * `audit`, `retention`) and of every module, each run over its module's context. Where that context
 * comes from is the caller's: the CLI builds the composition (no server running), the server hands
 * over its own (a command sent over the control socket).
 */
import { Effect, type Layer } from "effect"
import { CliOutput, Command } from "effect/cli"
import type { Module } from "../module.ts"
import { usagePresenter } from "./usage-presenter.ts"

/** A module's whole context (its private services too), as a layer, by module name. */
export type ContextFor = (module: string) => Layer.Layer<never, unknown>

export const commandTree = <E, R>(
  modules: ReadonlyArray<Module>,
  contextFor: ContextFor,
  serve: Effect.Effect<void, E, R>
) => {
  const commands = modules.flatMap((m) =>
    m.commands.map((command) => Command.provide(contextFor(m.name))(command as Command.Command<string, unknown>))
  )
  const serveCommand = Command.make("serve", {}, () => serve).pipe(
    Command.withDescription("Serve the console, the API and /metrics (the default).")
  )
  return Command.make("breakwater", {}, () => serve).pipe(
    Command.withDescription("Breakwater: the operations control plane for trading platforms."),
    Command.withSubcommands([serveCommand, ...commands])
  )
}

/**
 * `breakwater help [command …]` is `breakwater [command …] --help`: the word operators type first
 * prints the usage and exits 0, like the flag.
 */
export const withHelpWord = (args: ReadonlyArray<string>): ReadonlyArray<string> =>
  args[0] === "help" ? [...args.slice(1), "--help"] : args

/** Runs the tree on `args` (after `help` is read as `--help`), usage errors shown as one line. */
export const runTree =
  <Name extends string, Input, ContextInput, E, R>(
    tree: Command.Command<Name, Input, ContextInput, E, R>,
    version: string
  ) =>
  (args: ReadonlyArray<string>) =>
    Command.runWith(tree, { version })(withHelpWord(args)).pipe(
      Effect.provide(CliOutput.layerPresenter(usagePresenter))
    )
