/**
 * `breakwater migrate`: applies pending migrations (opening the database does) and says where.
 * Sent to a running server, it says that server's database is current (it migrated at start).
 */
import { Console, Effect } from "effect"
import { Command } from "effect/cli"
import { DatabaseInfo } from "../db/client.ts"

export const migrateCommand = Command.make("migrate", {}, () =>
  Effect.gen(function* () {
    const info = yield* DatabaseInfo
    yield* Console.log(`migrations are up to date (${info.mode} database at ${info.location})`)
  })
).pipe(Command.withDescription("Apply pending database migrations and exit."))
