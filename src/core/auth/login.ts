/**
 * Sign-in, re-authentication and sign-out. The answer to a failed sign-in is the same whether the
 * account is unknown, disabled, locked or the password wrong, and takes the same time (a dummy
 * hash is verified when there is no real one). Failed attempts are counted per account; after
 * {@link MAX_FAILED_LOGINS} in {@link LOCKOUT_WINDOW_MINUTES} minutes the account refuses every
 * password until the oldest failure leaves the window. Every attempt is audited.
 */
import { Context, Effect, Layer, Option, type Redacted } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { Audit, type AuditWriteFailed } from "../audit/audit.ts"
import { type Actor, actorOf } from "../audit/entry.ts"
import { Metrics } from "../observability/metrics.ts"
import type { Principal } from "./access.ts"
import {
  hashIsOutdated,
  hashPassword,
  type PasswordHashFailed,
  verifyAgainstDummy,
  verifyPassword
} from "./passwords.ts"
import { type NewSession, type SessionMeta, Sessions } from "./sessions.ts"
import { type User, Users } from "./users.ts"

export const MAX_FAILED_LOGINS = 10
export const LOCKOUT_WINDOW_MINUTES = 15

export type LoginOutcome =
  | { readonly _tag: "SignedIn"; readonly user: User; readonly session: NewSession }
  /** Unknown account, disabled, locked or wrong password: deliberately indistinguishable. */
  | { readonly _tag: "Refused" }

export interface LoginAttempt {
  readonly email: string
  readonly password: Redacted.Redacted<string>
  readonly meta: SessionMeta
  /** The session cookie the request carried: that session ends, the new one gets a new id. */
  readonly previousSession: string | undefined
}

type LoginError = SqlError.SqlError | PasswordHashFailed | AuditWriteFailed

export interface LoginShape {
  readonly login: (attempt: LoginAttempt) => Effect.Effect<LoginOutcome, LoginError>
  /** Checks the password of a session's user again and, if right, marks the session freshly authenticated. */
  readonly reauthenticate: (
    principal: Principal,
    password: Redacted.Redacted<string>
  ) => Effect.Effect<boolean, LoginError>
  /** Ends the session a cookie names. */
  readonly logout: (
    principal: Principal,
    cookieValue: string
  ) => Effect.Effect<void, SqlError.SqlError | AuditWriteFailed>
}

const anonymousActor: Actor = { type: "anonymous", id: "anonymous", name: "anonymous" }
const userActor = (user: User): Actor => ({ type: "user", id: user.id, name: user.displayName })

export class Login extends Context.Service<Login, LoginShape>()("breakwater/Login") {
  static readonly layer = Layer.effect(
    Login,
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const users = yield* Users
      const sessions = yield* Sessions
      const audit = yield* Audit
      const attempts = (yield* Metrics).counter({
        name: "breakwater_login_attempts_total",
        help: "Sign-in and re-authentication attempts, by outcome.",
        labelNames: ["outcome"]
      })

      /**
       * Counts this attempt as a failure before the password is checked (a right password removes
       * it again), under a lock on the user's row: concurrent guesses cannot all slip in under the limit.
       */
      const admit = (userId: string) =>
        sql.withTransaction(
          Effect.gen(function* () {
            yield* sql`SELECT 1 FROM users WHERE id = ${userId} FOR UPDATE`
            const [row] = yield* sql<{ n: string | number }>`SELECT count(*) AS n FROM login_failures
              WHERE user_id = ${userId} AND failed_at > now() - make_interval(mins => ${LOCKOUT_WINDOW_MINUTES})`
            const prior = Number(row?.n ?? 0)
            if (prior >= MAX_FAILED_LOGINS) return { locked: true, failures: prior } as const
            yield* sql`INSERT INTO login_failures (user_id) VALUES (${userId})`
            return { locked: false, failures: prior + 1 } as const
          })
        )

      const forgiveFailures = (userId: string) => sql`DELETE FROM login_failures WHERE user_id = ${userId}`

      /** Checks a known user's password under the lockout rule; audits the failure kinds. */
      const checkPassword = (
        user: User,
        passwordHash: string,
        password: Redacted.Redacted<string>,
        action: string,
        actor: Actor
      ) =>
        Effect.gen(function* () {
          const gate = yield* admit(user.id)
          const base = { actor, action, resourceType: "user", resourceId: user.id } as const
          if (gate.locked) {
            yield* verifyAgainstDummy(password)
            attempts.inc({ outcome: "locked" })
            yield* audit.record({
              ...base,
              outcome: "denied",
              reason: "account locked",
              details: { email: user.email, failuresInWindow: gate.failures }
            })
            return false
          }
          if (!(yield* verifyPassword(passwordHash, password))) {
            attempts.inc({ outcome: "failure" })
            yield* audit.record({
              ...base,
              outcome: "failure",
              reason: "wrong password",
              details: { email: user.email, failuresInWindow: gate.failures }
            })
            if (gate.failures === MAX_FAILED_LOGINS)
              yield* audit.record({
                ...base,
                action: "auth.lockout",
                outcome: "denied",
                reason: `${MAX_FAILED_LOGINS} failed attempts within ${LOCKOUT_WINDOW_MINUTES} minutes: account locked`,
                details: { email: user.email, windowMinutes: LOCKOUT_WINDOW_MINUTES }
              })
            return false
          }
          yield* forgiveFailures(user.id)
          if (hashIsOutdated(passwordHash)) yield* users.replaceHash(user.id, yield* hashPassword(password))
          attempts.inc({ outcome: "success" })
          return true
        })

      const login = (attempt: LoginAttempt) =>
        Effect.gen(function* () {
          const found = yield* users.credentials(attempt.email.trim())
          if (Option.isNone(found) || found.value.user.disabled) {
            yield* verifyAgainstDummy(attempt.password)
            attempts.inc({ outcome: "failure" })
            yield* audit.record({
              actor: anonymousActor,
              action: "auth.login",
              resourceType: "user",
              resourceId: Option.isSome(found) ? found.value.user.id : undefined,
              outcome: "failure",
              reason: Option.isNone(found) ? "unknown account" : "account disabled",
              details: { email: attempt.email.slice(0, 254) }
            })
            return { _tag: "Refused" } as const
          }
          const { user, passwordHash } = found.value
          if (!(yield* checkPassword(user, passwordHash, attempt.password, "auth.login", anonymousActor)))
            return { _tag: "Refused" } as const
          // Session fixation: whatever session the browser had before is dropped, never promoted.
          if (attempt.previousSession !== undefined) yield* sessions.revokeByCookie(attempt.previousSession)
          const session = yield* sessions.create(user.id, attempt.meta)
          yield* audit.record({
            actor: userActor(user),
            action: "auth.login",
            resourceType: "user",
            resourceId: user.id,
            outcome: "success",
            details: { email: user.email }
          })
          return { _tag: "SignedIn", user, session } as const
        }).pipe(Effect.withSpan("Login.login"))

      const reauthenticate = (principal: Principal, password: Redacted.Redacted<string>) =>
        Effect.gen(function* () {
          const session = principal.session
          if (session === undefined) return false
          const found = yield* users.credentialsById(principal.id)
          if (Option.isNone(found) || found.value.user.disabled) {
            yield* verifyAgainstDummy(password)
            return false
          }
          const { user, passwordHash } = found.value
          const ok = yield* checkPassword(user, passwordHash, password, "auth.reauthenticate", actorOf(principal))
          if (!ok) return false
          yield* sessions.markAuthenticated(session.idHash)
          yield* audit.record({
            actor: actorOf(principal),
            action: "auth.reauthenticate",
            resourceType: "user",
            resourceId: user.id,
            outcome: "success"
          })
          return true
        }).pipe(Effect.withSpan("Login.reauthenticate"))

      const logout = (principal: Principal, cookieValue: string) =>
        Effect.gen(function* () {
          const ended = yield* sessions.revokeByCookie(cookieValue)
          if (!ended || principal.kind !== "user") return
          yield* audit.record({
            actor: actorOf(principal),
            action: "auth.logout",
            resourceType: "user",
            resourceId: principal.id,
            outcome: "success"
          })
        })

      return Login.of({ login, reauthenticate, logout })
    })
  )
}
