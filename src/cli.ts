/**
 * The `breakwater` command: `serve` (the default), `migrate`, `audit …`, then the commands of core
 * and of every installed module (`retention …`, `user …`, `apikey …`, `breaker …`), each run over
 * its module's context in the same composition as the server (without the server's fibers).
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { auditCommand } from "./cli/audit.ts"
import { migrateCommand } from "./cli/migrate.ts"
import { moduleContext } from "./cli/runtime.ts"
import { coreModule } from "./core/core-module.ts"
import type { Module } from "./core/module.ts"
import { runMain } from "./core/run.ts"
import { version } from "./core/version.ts"
import { modules as installed } from "./modules.ts"
import { serve } from "./serve.ts"

const serveCommand = Command.make("serve", {}, () => serve).pipe(
  Command.withDescription("Serve the console, the API and /metrics (the default).")
)

/**
 * The command tree for a module list. Each module's commands get its context; a command's type
 * (`Command.Any`) no longer says what it needs, the module's context holds it, as the server's
 * routes are given it.
 */
export const cliFor = (modules: ReadonlyArray<Module>) => {
  const commands = [coreModule, ...modules].flatMap((m) =>
    m.commands.map((command) =>
      Command.provide(moduleContext(modules, m.name))(command as Command.Command<string, unknown>)
    )
  )
  return Command.make("breakwater", {}, () => serve).pipe(
    Command.withDescription("Breakwater: the operations control plane for trading platforms."),
    Command.withSubcommands([serveCommand, migrateCommand, auditCommand, ...commands])
  )
}

export const breakwater = cliFor(installed)

/**
 * `breakwater help [command …]` is `breakwater [command …] --help`: the word operators type first
 * prints the usage and exits 0, like the flag.
 */
export const withHelpWord = (args: ReadonlyArray<string>): ReadonlyArray<string> =>
  args[0] === "help" ? [...args.slice(1), "--help"] : args

export const main = (): void =>
  runMain(
    Command.runWith(breakwater, { version })(withHelpWord(process.argv.slice(2))).pipe(
      Effect.provide(NodeServices.layer)
    )
  )

if (import.meta.main) main()
