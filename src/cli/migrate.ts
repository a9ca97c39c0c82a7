/** `breakwater migrate`: applies pending migrations (building the database layer does) and exits. */
import { Console, Effect } from "effect"
import { Command } from "effect/cli"
import { DatabaseInfo } from "../core/db/client.ts"
import { CliDatabase } from "./runtime.ts"

export const migrateCommand = Command.make("migrate", {}, () =>
  Effect.gen(function* () {
    const info = yield* DatabaseInfo
    yield* Console.log(`migrations are up to date (${info.mode} database at ${info.location})`)
  }).pipe(Effect.provide(CliDatabase))
).pipe(Command.withDescription("Apply pending database migrations and exit."))
