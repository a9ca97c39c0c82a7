/**
 * Sign-in, re-authentication and sign-out. The answer to a failed sign-in is the same whether the
 * account is unknown, disabled, throttled or the password wrong, and takes the same time (a dummy
 * hash is verified when there is no real one, or no check is allowed). Failed attempts are counted
 * per account and client address and per address (`sign-in-throttle.ts`), so guesses from one
 * place never lock the real user out elsewhere. Every attempt is audited; an identifier that
 * matches no account is recorded only as a keyed hash (`identifier-hash.ts`), never as typed.
 */
import { Context, Effect, Layer, Option, type Redacted } from "effect"
import { SqlClient, type SqlError } from "effect/sql"
import { Audit, type AuditWriteFailed } from "../audit/audit.ts"
import { type Actor, actorOf } from "../audit/entry.ts"
import { Metrics } from "../observability/metrics.ts"
import { RequestInfo } from "../request-info.ts"
import type { Principal } from "./access.ts"
import { identifierHash, loadIdentifierKey } from "./identifier-hash.ts"
import {
  hashIsOutdated,
  hashPassword,
  type PasswordHashFailed,
  verifyAgainstDummy,
  verifyPassword
} from "./passwords.ts"
import { type NewSession, type SessionMeta, Sessions } from "./sessions.ts"
import {
  ADDRESS_LIMIT,
  type Admitted,
  ATTACK_THRESHOLD,
  admit,
  forgive,
  limitsReached,
  UNDER_ATTACK_LIMIT,
  WINDOW_MINUTES
} from "./sign-in-throttle.ts"
import { throttleAddress } from "./throttle-address.ts"
import { type User, Users } from "./users.ts"

export type LoginOutcome =
  | { readonly _tag: "SignedIn"; readonly user: User; readonly session: NewSession }
  /** Unknown account, disabled, throttled or wrong password: deliberately indistinguishable. */
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

/** One password check under the throttle: who is asking, for which account, from where. */
interface Check {
  readonly action: "auth.login" | "auth.reauthenticate"
  readonly actor: Actor
  /** Undefined when the identifier matches no account. */
  readonly user: User | undefined
  /** Undefined when no password can succeed (unknown or disabled account): the dummy hash is verified. */
  readonly passwordHash: string | undefined
  /** Why a wrong answer failed: wrong password, unknown account, account disabled. */
  readonly failureReason: string
  /** What names the attempt in the audit log: the account's stored email, or the identifier's keyed hash. */
  readonly identifies: Readonly<Record<string, string>>
  /** The throttled address (`throttleAddress`). */
  readonly address: string
}

const refusedReason = {
  address: "too many failed sign-ins from this address",
  account: "too many failed sign-ins for this account from this address"
} as const

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

      const key = yield* loadIdentifierKey()

      /** The entries of the limits a failure has just reached; a warning too for the rare, actionable ones. */
      const auditLimitsReached = (check: Check, gate: Admitted) =>
        Effect.gen(function* () {
          const reached = limitsReached(gate, check.user !== undefined)
          const onAccount = { actor: check.actor, resourceType: "user", resourceId: check.user?.id } as const
          if (reached.lockout)
            yield* audit.record({
              ...onAccount,
              action: "auth.lockout",
              outcome: "denied",
              reason: `${gate.limit} failed sign-ins within ${WINDOW_MINUTES} minutes from ${check.address}: refused there for this account`,
              details: {
                ...check.identifies,
                address: check.address,
                failures: gate.accountFailures,
                windowMinutes: WINDOW_MINUTES
              }
            })
          if (reached.throttle) {
            yield* Effect.logWarning(
              `sign-in throttled: ${ADDRESS_LIMIT} failures within ${WINDOW_MINUTES} minutes from ${check.address}`
            )
            yield* audit.record({
              actor: check.actor,
              action: "auth.throttle",
              resourceType: "client_address",
              resourceId: check.address,
              outcome: "denied",
              reason: `${ADDRESS_LIMIT} failed sign-ins within ${WINDOW_MINUTES} minutes: every sign-in from this address is refused`,
              details: { address: check.address, failures: gate.addressFailures, windowMinutes: WINDOW_MINUTES }
            })
          }
          if (reached.attack) {
            yield* Effect.logWarning(
              `distributed sign-in attack on user ${check.user?.id}: ${ATTACK_THRESHOLD} failures within ${WINDOW_MINUTES} minutes`
            )
            yield* audit.record({
              ...onAccount,
              action: "auth.distributed_attack",
              outcome: "denied",
              reason: `${ATTACK_THRESHOLD} failed sign-ins within ${WINDOW_MINUTES} minutes from all addresses: each address now gets ${UNDER_ATTACK_LIMIT}`,
              details: {
                ...check.identifies,
                failures: gate.accountWideFailures,
                windowMinutes: WINDOW_MINUTES,
                perAddressLimit: UNDER_ATTACK_LIMIT
              }
            })
          }
        })

      /** Checks a password under the throttle; audits every outcome but success (the caller knows what succeeded). */
      const checkPassword = (check: Check, password: Redacted.Redacted<string>) =>
        Effect.gen(function* () {
          const gate = yield* admit(sql, check.address, check.user?.id)
          const base = {
            actor: check.actor,
            action: check.action,
            resourceType: "user",
            resourceId: check.user?.id
          } as const
          const counts = {
            ...check.identifies,
            address: check.address,
            addressFailures: gate.addressFailures,
            ...(check.user === undefined ? {} : { accountFailures: gate.accountFailures })
          }
          if (gate._tag === "Refused") {
            // No check is allowed, and none may be seen to be skipped: the same time as a real one.
            yield* verifyAgainstDummy(password)
            attempts.inc({ outcome: gate.by === "address" ? "throttled" : "locked" })
            yield* audit.record({ ...base, outcome: "denied", reason: refusedReason[gate.by], details: counts })
            return false
          }
          const right =
            check.passwordHash === undefined
              ? yield* Effect.as(verifyAgainstDummy(password), false)
              : yield* verifyPassword(check.passwordHash, password)
          if (!right || check.user === undefined) {
            attempts.inc({ outcome: "failure" })
            yield* audit.record({ ...base, outcome: "failure", reason: check.failureReason, details: counts })
            yield* auditLimitsReached(check, gate)
            return false
          }
          yield* forgive(sql, check.address, check.user.id)
          if (check.passwordHash !== undefined && hashIsOutdated(check.passwordHash))
            yield* users.replaceHash(check.user.id, yield* hashPassword(password))
          attempts.inc({ outcome: "success" })
          return true
        })

      const login = Effect.fn("Login.login")(function* (attempt: LoginAttempt) {
        const address = throttleAddress(attempt.meta.clientAddress)
        const found = yield* users.credentials(attempt.email.trim())
        const user = Option.isSome(found) ? found.value.user : undefined
        const check: Check = {
          action: "auth.login",
          actor: anonymousActor,
          user,
          passwordHash: Option.isSome(found) && !found.value.user.disabled ? found.value.passwordHash : undefined,
          failureReason: user === undefined ? "unknown account" : user.disabled ? "account disabled" : "wrong password",
          // What was typed is kept only when it named an account, and then as that account's email.
          identifies:
            user === undefined ? { identifierHash: identifierHash(key, attempt.email) } : { email: user.email },
          address
        }
        if (!(yield* checkPassword(check, attempt.password)) || user === undefined) return { _tag: "Refused" } as const
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
      })

      const reauthenticate = Effect.fn("Login.reauthenticate")(function* (
        principal: Principal,
        password: Redacted.Redacted<string>
      ) {
        const session = principal.session
        if (session === undefined) return false
        const found = yield* users.credentialsById(principal.id)
        // A signed-in user whose account is gone or disabled: their session is refused from the next request on.
        if (Option.isNone(found) || found.value.user.disabled) {
          yield* verifyAgainstDummy(password)
          return false
        }
        const { user, passwordHash } = found.value
        const check: Check = {
          action: "auth.reauthenticate",
          actor: actorOf(principal),
          user,
          passwordHash,
          failureReason: "wrong password",
          identifies: { email: user.email },
          address: throttleAddress((yield* RequestInfo).clientAddress)
        }
        if (!(yield* checkPassword(check, password))) return false
        yield* sessions.markAuthenticated(session.idHash)
        yield* audit.record({
          actor: actorOf(principal),
          action: "auth.reauthenticate",
          resourceType: "user",
          resourceId: user.id,
          outcome: "success"
        })
        return true
      })

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
