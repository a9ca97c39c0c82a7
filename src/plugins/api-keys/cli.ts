/**
 * `breakwater apikey create|list|revoke`. `create` prints the key alone on its last line (the
 * only time it is shown), so a script can take it with `tail -n 1`.
 */
import { Console, Effect, Option, Redacted } from "effect"
import { Argument, Command, Flag } from "effect/cli"
import { SqlClient } from "effect/sql"
import { systemActor } from "../../core/audit/entry.ts"
import { parseDuration } from "../../core/auth/api-key-format.ts"
import { ApiKeys } from "../../core/auth/api-keys.ts"
import { BadRequest, NotFound } from "../../core/errors/generic.ts"
import { CommandUsageError } from "../../core/run.ts"

const actor = systemActor("cli")
/** Bad input and unknown keys are the user's mistakes: one line and exit 2, not a stack. */
const toCliError = (error: unknown) =>
  error instanceof BadRequest || error instanceof NotFound ? new CommandUsageError({ message: error.message }) : error

const withKeys = <A, E>(effect: Effect.Effect<A, E, ApiKeys | SqlClient.SqlClient>) =>
  effect.pipe(Effect.mapError(toCliError))

/** The owner by email, or else the oldest enabled admin. */
const ownerId = (email: Option.Option<string>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = Option.isSome(email)
      ? yield* sql<{ id: string }>`SELECT id FROM users WHERE lower(email) = lower(${email.value}) AND NOT disabled`
      : yield* sql<{
          id: string
        }>`SELECT id FROM users WHERE role = 'admin' AND NOT disabled ORDER BY created_at LIMIT 1`
    const row = rows[0]
    if (row === undefined)
      return yield* new CommandUsageError({
        message: Option.isSome(email)
          ? `no enabled user ${email.value}`
          : "no enabled admin to own the key; pass --owner"
      })
    return row.id
  })

const create = Command.make(
  "create",
  {
    name: Flag.String("name").pipe(Flag.withDescription("What the key is for, e.g. 'deploy pipeline'.")),
    scopes: Flag.String("scopes").pipe(
      Flag.withDescription("Comma-separated permissions, e.g. VIEW_CIRCUIT_BREAKER,TRIP_CIRCUIT_BREAKER.")
    ),
    expiresIn: Flag.String("expires-in").pipe(Flag.withDescription("Lifetime: 30d, 12h, 52w, 1y (at most one year).")),
    owner: Flag.String("owner").pipe(Flag.withDescription("Owner's email (default: the first admin)."), Flag.optional)
  },
  ({ name, scopes, expiresIn, owner }) =>
    withKeys(
      Effect.gen(function* () {
        const seconds = parseDuration(expiresIn)
        if (seconds === undefined)
          return yield* new CommandUsageError({
            message: `--expires-in ${expiresIn}: use a number and m, h, d, w or y, e.g. 30d`
          })
        const created = yield* (yield* ApiKeys).create(
          {
            name,
            ownerId: yield* ownerId(owner),
            scopes: scopes
              .split(",")
              .map((s) => s.trim())
              .filter((s) => s !== ""),
            expiresInSeconds: seconds
          },
          actor
        )
        yield* Console.log(
          `created API key ${created.key.id} "${created.key.name}" for ${created.key.ownerEmail}, scopes ${created.key.scopes.join(",")}, expires ${created.key.expiresAt}`
        )
        yield* Console.log("store it now: it is not shown again")
        yield* Console.log(Redacted.value(created.plaintext))
      })
    )
).pipe(Command.withDescription("Create an API key and print it once."))

const list = Command.make("list", {}, () =>
  withKeys(
    Effect.gen(function* () {
      const keys = yield* (yield* ApiKeys).list
      if (keys.length === 0) return yield* Console.log("no API keys")
      for (const k of keys) {
        const state = k.revokedAt !== null ? `revoked ${k.revokedAt}` : `expires ${k.expiresAt}`
        yield* Console.log(
          `${k.id}  ${k.name}  owner=${k.ownerEmail}  scopes=${k.scopes.join(",")}  ${state}  last used ${k.lastUsedAt ?? "never"}`
        )
      }
    })
  )
).pipe(Command.withDescription("List API keys (never their secrets)."))

const revoke = Command.make(
  "revoke",
  { id: Argument.String("id").pipe(Argument.withDescription("The key id (bw_<id>_…).")) },
  ({ id }) =>
    withKeys(
      Effect.gen(function* () {
        const key = yield* (yield* ApiKeys).revoke(id, actor)
        yield* Console.log(`revoked API key ${key.id} "${key.name}"`)
      })
    )
).pipe(Command.withDescription("Revoke an API key at once."))

export const apikeyCommand = Command.make("apikey").pipe(
  Command.withDescription("API keys: create, list, revoke."),
  Command.withSubcommands([create, list, revoke])
)
