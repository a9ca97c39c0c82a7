/**
 * The `breakwater` command: `serve` (the default) and `migrate`. Later capabilities add their
 * subcommands here (user, apikey, breaker, audit verify, drill).
 */
import * as NodeServices from "@effect/platform-node/NodeServices"
import { Console, Effect, Layer } from "effect"
import { Command } from "effect/cli"
import { AppConfig } from "./core/config.ts"
import { DatabaseInfo, DatabaseLive } from "./core/db/client.ts"
import { loggingFromConfig } from "./core/observability/logging.ts"
import { runMain } from "./core/run.ts"
import { version } from "./core/version.ts"
import { serve } from "./serve.ts"

const serveCommand = Command.make("serve", {}, () => serve).pipe(
  Command.withDescription("Serve the console, the API and /metrics (the default).")
)

const migrateCommand = Command.make("migrate", {}, () =>
  Effect.gen(function* () {
    // Building the database layer applies pending migrations under the advisory lock.
    const info = yield* DatabaseInfo
    yield* Console.log(`migrations are up to date (${info.mode} database at ${info.location})`)
  }).pipe(Effect.provide(DatabaseLive.pipe(Layer.provide(loggingFromConfig), Layer.provide(AppConfig.layer))))
).pipe(Command.withDescription("Apply pending database migrations and exit."))

export const breakwater = Command.make("breakwater", {}, () => serve).pipe(
  Command.withDescription("Breakwater: the operations control plane for trading platforms."),
  Command.withSubcommands([serveCommand, migrateCommand])
)

export const main = (): void => runMain(breakwater.pipe(Command.run({ version }), Effect.provide(NodeServices.layer)))

if (import.meta.main) main()
