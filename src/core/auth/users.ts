/**
 * Users: who may sign in, with which role. Every change is audited in the transaction that makes
 * it, and a change that takes rights away (disable, role change, new password, "end sessions")
 * ends the user's sessions in that same transaction, so it holds from the next request on.
 */
import { Context, Effect, Layer, Option, type Redacted, Schema } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { sql as kysql } from "kysely"
import { Audit } from "../audit/audit.ts"
import type { Actor } from "../audit/entry.ts"
import { AppConfig } from "../config.ts"
import { db, first, run } from "../db/query.ts"
import { Conflict, NotFound } from "../errors/generic.ts"
import { hashPassword, type PasswordHashFailed } from "./passwords.ts"
import type { Role } from "./roles.ts"
import { revokeUserSessions } from "./sessions.ts"

export const Email = Schema.String.check(
  Schema.isMaxLength(254, { message: "must be at most 254 characters" }),
  Schema.isPattern(/^[^@\s]+@[^@\s]+$/, { message: "must be an email address" })
)

export const DisplayName = Schema.String.check(
  Schema.isMinLength(1, { message: "must not be empty" }),
  Schema.isMaxLength(100, { message: "must be at most 100 characters" })
)

export interface User {
  readonly id: string
  readonly email: string
  readonly displayName: string
  readonly role: Role
  readonly disabled: boolean
  readonly createdAt: Date
  readonly updatedAt: Date
}

/** A user as the admin page lists them. */
export interface UserOverview extends User {
  readonly activeSessions: number
  readonly lastSeenAt: Date | undefined
}

/** What sign-in needs: the user and the stored hash. */
export interface Credentials {
  readonly user: User
  readonly passwordHash: string
}

export interface NewUser {
  readonly email: string
  readonly displayName?: string | undefined
  readonly role: Role
  readonly password: Redacted.Redacted<string>
}

type Failure = SqlError.SqlError | NotFound | Conflict

export interface UsersShape {
  readonly count: Effect.Effect<number, SqlError.SqlError>
  readonly list: Effect.Effect<ReadonlyArray<UserOverview>, SqlError.SqlError>
  readonly get: (id: string) => Effect.Effect<User, Failure>
  readonly findByEmail: (email: string) => Effect.Effect<Option.Option<User>, SqlError.SqlError>
  readonly credentials: (email: string) => Effect.Effect<Option.Option<Credentials>, SqlError.SqlError>
  readonly credentialsById: (id: string) => Effect.Effect<Option.Option<Credentials>, SqlError.SqlError>
  readonly create: (user: NewUser, actor: Actor) => Effect.Effect<User, Failure | PasswordHashFailed>
  readonly setRole: (id: string, role: Role, actor: Actor) => Effect.Effect<User, Failure>
  readonly setDisabled: (id: string, disabled: boolean, actor: Actor) => Effect.Effect<User, Failure>
  readonly setPassword: (
    id: string,
    password: Redacted.Redacted<string>,
    actor: Actor
  ) => Effect.Effect<User, Failure | PasswordHashFailed>
  /** Ends every session of the user; returns how many there were. */
  readonly endSessions: (id: string, actor: Actor) => Effect.Effect<number, Failure>
  /** Replaces a hash made with outdated parameters (at sign-in, when the password is known). */
  readonly replaceHash: (id: string, passwordHash: string) => Effect.Effect<void, SqlError.SqlError>
}

const userColumns = ["id", "email", "display_name", "role", "disabled", "created_at", "updated_at"] as const

interface UserRow {
  readonly id: string
  readonly email: string
  readonly display_name: string
  readonly role: Role
  readonly disabled: boolean
  readonly created_at: Date
  readonly updated_at: Date
}

const toUser = (row: UserRow): User => ({
  id: row.id,
  email: row.email,
  displayName: row.display_name,
  role: row.role,
  disabled: row.disabled,
  createdAt: new Date(row.created_at),
  updatedAt: new Date(row.updated_at)
})

/** Serialises changes that remove an enabled administrator. */
const LAST_ADMIN_LOCK = 7_361_202_615

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

export class Users extends Context.Service<Users, UsersShape>()("breakwater/Users") {
  static readonly layer = Layer.effect(
    Users,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const audit = yield* Audit
      const { sessionIdleMinutes } = yield* AppConfig
      const provide = Effect.provideService(SqlClient.SqlClient, sql)

      const byId = (id: string) =>
        UUID.test(id)
          ? first(db.selectFrom("users").select(userColumns).where("id", "=", id)).pipe(provide)
          : Effect.succeed(undefined)

      const get = (id: string) =>
        Effect.flatMap(byId(id), (row) =>
          row === undefined
            ? Effect.fail(new NotFound({ message: "there is no such user" }))
            : Effect.succeed(toUser(row))
        )

      const credentialsWhere = (email: string | undefined, id: string | undefined) =>
        first(
          db
            .selectFrom("users")
            .select([...userColumns, "password_hash"])
            .$if(email !== undefined, (q) => q.where(kysql`lower(email)`, "=", (email ?? "").toLowerCase()))
            .$if(id !== undefined, (q) => q.where("id", "=", id ?? ""))
        ).pipe(
          provide,
          Effect.map((row) =>
            row === undefined ? Option.none() : Option.some({ user: toUser(row), passwordHash: row.password_hash })
          )
        )

      /**
       * Refuses a change that would leave no enabled administrator. Such changes take one advisory
       * lock, so two admins demoting each other at once cannot both succeed (the second counts
       * after the first committed), and without the deadlock that locking every admin row risks.
       */
      const keepAnAdmin = (target: User, stillAdmin: boolean) =>
        Effect.gen(function* () {
          if (target.role !== "admin" || target.disabled || stillAdmin) return
          yield* sql`SELECT pg_advisory_xact_lock(${LAST_ADMIN_LOCK})`
          const [row] = yield* sql<{
            n: string | number
          }>`SELECT count(*) AS n FROM users WHERE role = 'admin' AND NOT disabled`
          if (Number(row?.n ?? 0) <= 1)
            return yield* new Conflict({ message: `${target.email} is the last enabled administrator` })
        })

      /** Runs a change to one user in a transaction, with its audit entry. */
      const change = <A, E>(
        id: string,
        f: (before: User) => Effect.Effect<A, E, SqlClient.SqlClient>
      ): Effect.Effect<A, E | Failure> =>
        sql.withTransaction(
          Effect.gen(function* () {
            const locked = UUID.test(id)
              ? yield* run(db.selectFrom("users").select(userColumns).where("id", "=", id).forUpdate()).pipe(provide)
              : []
            const row = locked[0]
            if (row === undefined) return yield* new NotFound({ message: "there is no such user" })
            return yield* f(toUser(row)).pipe(provide)
          })
        )

      const update = (id: string, set: { role?: Role; disabled?: boolean; password_hash?: string }) =>
        Effect.map(
          run(
            db
              .updateTable("users")
              .set({ ...set, updated_at: new Date() })
              .where("id", "=", id)
              .returning(userColumns)
          ),
          (rows) => toUser(rows[0]!)
        )

      const create = (user: NewUser, actor: Actor) =>
        Effect.gen(function* () {
          const passwordHash = yield* hashPassword(user.password)
          const email = user.email.trim()
          return yield* sql.withTransaction(
            Effect.gen(function* () {
              const rows = yield* run(
                db
                  .insertInto("users")
                  .values({
                    email,
                    display_name: user.displayName?.trim() || email.split("@")[0] || email,
                    role: user.role,
                    password_hash: passwordHash
                  })
                  .returning(userColumns)
              ).pipe(provide)
              const created = toUser(rows[0]!)
              yield* audit.recordInTransaction({
                actor,
                action: "user.create",
                resourceType: "user",
                resourceId: created.id,
                outcome: "success",
                details: { email: created.email, role: created.role }
              })
              return created
            })
          )
        }).pipe(
          Effect.catchReason("SqlError", "UniqueViolation", () =>
            Effect.fail(new Conflict({ message: `a user with the email ${user.email} already exists` }))
          )
        )

      const setRole = (id: string, role: Role, actor: Actor) =>
        change(id, (before) =>
          Effect.gen(function* () {
            if (before.role === role) return before
            yield* keepAnAdmin(before, role === "admin")
            const after = yield* update(id, { role })
            const ended = yield* revokeUserSessions(id)
            yield* audit.recordInTransaction({
              actor,
              action: "user.role_change",
              resourceType: "user",
              resourceId: id,
              outcome: "success",
              details: { email: before.email, from: before.role, to: role, sessionsEnded: ended }
            })
            return after
          })
        )

      const setDisabled = (id: string, disabled: boolean, actor: Actor) =>
        change(id, (before) =>
          Effect.gen(function* () {
            if (before.disabled === disabled) return before
            if (disabled) yield* keepAnAdmin(before, false)
            const after = yield* update(id, { disabled })
            const ended = disabled ? yield* revokeUserSessions(id) : 0
            yield* audit.recordInTransaction({
              actor,
              action: disabled ? "user.disable" : "user.enable",
              resourceType: "user",
              resourceId: id,
              outcome: "success",
              details: { email: before.email, sessionsEnded: ended }
            })
            return after
          })
        )

      const setPassword = (id: string, password: Redacted.Redacted<string>, actor: Actor) =>
        Effect.flatMap(hashPassword(password), (passwordHash) =>
          change(id, (before) =>
            Effect.gen(function* () {
              const after = yield* update(id, { password_hash: passwordHash })
              // Whoever knew the old password must not keep a session made with it.
              const ended = yield* revokeUserSessions(id)
              yield* audit.recordInTransaction({
                actor,
                action: "user.password_change",
                resourceType: "user",
                resourceId: id,
                outcome: "success",
                details: { email: before.email, sessionsEnded: ended }
              })
              return after
            })
          )
        )

      const endSessions = (id: string, actor: Actor) =>
        change(id, (before) =>
          Effect.gen(function* () {
            const ended = yield* revokeUserSessions(id)
            yield* audit.recordInTransaction({
              actor,
              action: "user.sessions_end",
              resourceType: "user",
              resourceId: id,
              outcome: "success",
              details: { email: before.email, sessionsEnded: ended }
            })
            return ended
          })
        )

      const list = Effect.map(
        sql<UserRow & { active_sessions: string | number; last_seen_at: Date | string | null }>`
          SELECT u.id, u.email, u.display_name, u.role, u.disabled, u.created_at, u.updated_at,
                 count(s.id_hash) FILTER (WHERE s.expires_at > now()
                   AND s.last_seen_at > now() - make_interval(mins => ${sessionIdleMinutes})) AS active_sessions,
                 max(s.last_seen_at) AS last_seen_at
          FROM users u LEFT JOIN sessions s ON s.user_id = u.id
          GROUP BY u.id ORDER BY lower(u.email)`,
        (rows) =>
          rows.map((row) => ({
            ...toUser(row),
            activeSessions: Number(row.active_sessions),
            lastSeenAt: row.last_seen_at === null ? undefined : new Date(row.last_seen_at)
          }))
      )

      return Users.of({
        count: Effect.map(sql<{ n: string | number }>`SELECT count(*) AS n FROM users`, (rows) =>
          Number(rows[0]?.n ?? 0)
        ),
        list,
        get,
        findByEmail: (email) =>
          Effect.map(
            credentialsWhere(email, undefined),
            Option.map((c) => c.user)
          ),
        credentials: (email) => credentialsWhere(email, undefined),
        credentialsById: (id) => (UUID.test(id) ? credentialsWhere(undefined, id) : Effect.succeed(Option.none())),
        create,
        setRole,
        setDisabled,
        setPassword,
        endSessions,
        replaceHash: (id, passwordHash) =>
          Effect.asVoid(
            run(db.updateTable("users").set({ password_hash: passwordHash }).where("id", "=", id)).pipe(provide)
          )
      })
    })
  )
}
