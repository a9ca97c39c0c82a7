/**
 * The `breakwater` command: `serve` (the default), `migrate`, `audit verify`, `user …`, `apikey …`,
 * `breaker …`; one file per command group under `src/cli/`.
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Effect } from "effect"
import { Command } from "effect/cli"
import { apikeyCommand } from "./cli/apikey.ts"
import { auditCommand } from "./cli/audit.ts"
import { breakerCommand } from "./cli/breaker.ts"
import { migrateCommand } from "./cli/migrate.ts"
import { userCommand } from "./cli/user.ts"
import { runMain } from "./core/run.ts"
import { version } from "./core/version.ts"
import { serve } from "./serve.ts"

const serveCommand = Command.make("serve", {}, () => serve).pipe(
  Command.withDescription("Serve the console, the API and /metrics (the default).")
)

export const breakwater = Command.make("breakwater", {}, () => serve).pipe(
  Command.withDescription("Breakwater: the operations control plane for trading platforms."),
  Command.withSubcommands([serveCommand, migrateCommand, auditCommand, userCommand, apikeyCommand, breakerCommand])
)

export const main = (): void => runMain(breakwater.pipe(Command.run({ version }), Effect.provide(NodeServices.layer)))

if (import.meta.main) main()
