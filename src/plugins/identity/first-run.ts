/**
 * First run: when no user exists, create the first administrator from `BREAKWATER_ADMIN_EMAIL`
 * (default `admin@localhost`) and `BREAKWATER_ADMIN_PASSWORD`. Without a password one is generated
 * and logged once, at warn level, after the commit; it is never stored or shown again.
 */
import { Effect, Option, Redacted } from "effect"
import { SqlClient } from "effect/sql"
import { systemActor } from "../../core/audit/entry.ts"
import { generatePassword } from "../../core/auth/passwords.ts"
import { Users } from "../../core/auth/users.ts"
import { AppConfig } from "../../core/config.ts"

/** Serialises replicas starting together on an empty database: one of them creates the admin. */
const FIRST_RUN_LOCK = 7_361_202_614

export const ensureFirstAdmin = Effect.gen(function* () {
  const config = yield* AppConfig
  const users = yield* Users
  const sql = yield* SqlClient.SqlClient
  const created = yield* sql.withTransaction(
    Effect.gen(function* () {
      yield* sql`SELECT pg_advisory_xact_lock(${FIRST_RUN_LOCK})`
      if ((yield* users.count) > 0) return undefined
      const password = Option.getOrElse(config.adminPassword, generatePassword)
      const admin = yield* users.create(
        { email: config.adminEmail, displayName: "Administrator", role: "admin", password },
        systemActor("first-run")
      )
      return { email: admin.email, password }
    })
  )
  if (created === undefined) return
  if (Option.isSome(config.adminPassword)) {
    yield* Effect.logInfo(
      `No user existed: created the administrator ${created.email} with the password from BREAKWATER_ADMIN_PASSWORD.`
    )
    return
  }
  yield* Effect.logWarning(
    `No user existed: created the administrator ${created.email}. Generated password (shown only this once): ` +
      `${Redacted.value(created.password)} — sign in and keep it safe, or set another with ` +
      `\`npx breakwater user passwd --email ${created.email}\`.`
  )
}).pipe(Effect.withSpan("identity.firstRun"))
