/**
 * The `breakwater` command: `serve` (the default), `migrate`, `audit …`, `user …`, then every
 * installed module's commands (`apikey …`, `breaker …`, …), each run over its module's context in
 * the same composition as the server. Core's command groups are one file each under `src/cli/`.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { auditCommand } from "./cli/audit.ts"
import { migrateCommand } from "./cli/migrate.ts"
import { CliServices, moduleContext } from "./cli/runtime.ts"
import { userCommand } from "./cli/user.ts"
import { retentionCommand } from "./core/retention/cli.ts"
import { runMain } from "./core/run.ts"
import { version } from "./core/version.ts"
import { modules } from "./modules.ts"
import { serve } from "./serve.ts"

const serveCommand = Command.make("serve", {}, () => serve).pipe(
  Command.withDescription("Serve the console, the API and /metrics (the default).")
)

/**
 * Each module's commands with its context provided. A command's type no longer says what it needs
 * (`Command.Any`); the module's context holds it, as the server's routes are given it.
 */
const moduleCommands = modules.flatMap((m) =>
  m.commands.map((command) => Command.provide(moduleContext(m.name))(command as Command.Command<string, unknown>))
)

export const breakwater = Command.make("breakwater", {}, () => serve).pipe(
  Command.withDescription("Breakwater: the operations control plane for trading platforms."),
  Command.withSubcommands([
    serveCommand,
    migrateCommand,
    auditCommand,
    userCommand,
    ...moduleCommands,
    Command.provide(retentionCommand, CliServices)
  ])
)

export const main = (): void => runMain(breakwater.pipe(Command.run({ version }), Effect.provide(NodeServices.layer)))

if (import.meta.main) main()
