/**
 * What the audit page's actor and action pickers offer: the people, and the actors and actions of
 * the newest entries. Reading them walks up to 20,000 rows and every user, which cost more than the
 * page itself under 50 polling operators; the choices change rarely, so they are read at most once
 * per 10 s per process (a failed read is not kept).
 */
import { Context, Duration, Effect, Exit, Layer } from "effect"
import type { SqlError } from "effect/sql"
import { SqlClient } from "effect/sql"
import { type AuditVocabulary, recentVocabulary } from "../../core/audit/query.ts"
import { Users } from "../../core/auth/users.ts"

export interface PickerChoices {
  readonly people: ReadonlyArray<{ readonly id: string; readonly name: string; readonly email: string }>
  readonly vocabulary: AuditVocabulary
}

export class AuditPickers extends Context.Service<
  AuditPickers,
  { readonly choices: Effect.Effect<PickerChoices, SqlError.SqlError> }
>()("breakwater/audit-log/AuditPickers") {}

const FRESH_FOR = Duration.seconds(10)

export const AuditPickersLive = Layer.effect(
  AuditPickers,
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const users = yield* Users
    const read = Effect.gen(function* () {
      const list = yield* users.list
      const vocabulary = yield* recentVocabulary
      return { people: list.map((u) => ({ id: u.id, name: u.displayName, email: u.email })), vocabulary }
    }).pipe(Effect.provideService(SqlClient.SqlClient, sql))
    const choices = yield* Effect.cachedWithTTL(read, (exit) => (Exit.isSuccess(exit) ? FRESH_FOR : Duration.zero))
    return { choices }
  })
)
