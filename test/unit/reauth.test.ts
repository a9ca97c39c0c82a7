/** Re-authentication under the TestClock: the 5-minute window, the password, the API-key exemption. */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Redacted } from "effect"
import { TestClock } from "effect/testing"
import { CurrentPrincipal, type Principal } from "../../src/core/auth/access.ts"
import { Login } from "../../src/core/auth/login.ts"
import { requireRecentAuthentication } from "../../src/core/auth/reauth.ts"

const user: Principal = {
  kind: "user",
  id: "u1",
  name: "Ann",
  permissions: new Set(["MANAGE_USERS"]),
  role: "admin",
  session: { idHash: "h", csrfToken: "t", authenticatedAt: new Date(0) }
}

/** A Login that accepts only "right password" and counts the checks. */
const fakeLogin = (checks: Array<string>) =>
  Layer.succeed(Login, {
    login: () => Effect.die("not used"),
    logout: () => Effect.die("not used"),
    reauthenticate: (_principal, password) =>
      Effect.sync(() => {
        checks.push(Redacted.value(password))
        return Redacted.value(password) === "right password"
      })
  })

const attempt = (principal: Principal, password: string | undefined, checks: Array<string> = []) =>
  requireRecentAuthentication(password).pipe(
    Effect.provideService(CurrentPrincipal, principal),
    Effect.provide(fakeLogin(checks)),
    Effect.exit
  )

const code = (exit: Exit.Exit<void, { readonly _tag: string }>) =>
  Exit.isFailure(exit) && exit.cause.reasons[0]?._tag === "Fail" ? exit.cause.reasons[0].error._tag : "success"

describe("requireRecentAuthentication", () => {
  it.effect("passes within 5 minutes of sign-in without asking for the password", () =>
    Effect.gen(function* () {
      const checks: Array<string> = []
      yield* TestClock.adjust("299 seconds")
      assert.strictEqual(code(yield* attempt(user, undefined, checks)), "success")
      assert.deepStrictEqual(checks, [])
    })
  )

  it.effect("asks for the password after 5 minutes, and refuses a wrong one", () =>
    Effect.gen(function* () {
      yield* TestClock.adjust("5 minutes")
      assert.strictEqual(code(yield* attempt(user, undefined)), "ReauthenticationRequired")
      assert.strictEqual(code(yield* attempt(user, "")), "ReauthenticationRequired")
      assert.strictEqual(code(yield* attempt(user, "wrong password")), "ReauthenticationRequired")
    })
  )

  it.effect("accepts the right password after 5 minutes", () =>
    Effect.gen(function* () {
      const checks: Array<string> = []
      yield* TestClock.adjust("3 hours")
      assert.strictEqual(code(yield* attempt(user, "right password", checks)), "success")
      assert.deepStrictEqual(checks, ["right password"])
    })
  )

  it.effect("exempts API keys (no password behind them) and refuses a principal without a session", () =>
    Effect.gen(function* () {
      yield* TestClock.adjust("1 hour")
      const key: Principal = { kind: "api_key", id: "k1", name: "deploy", permissions: new Set() }
      assert.strictEqual(code(yield* attempt(key, undefined)), "success")
      const { session: _session, ...withoutSession } = user
      assert.strictEqual(code(yield* attempt(withoutSession, "right password")), "ReauthenticationRequired")
    })
  )
})
