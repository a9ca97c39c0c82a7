/**
 * Re-authentication before dangerous actions (breaker trip and reset, role changes, API key
 * creation): a session that entered its password more than {@link REAUTH_WINDOW_MINUTES} minutes
 * ago must enter it again. A handler calls {@link requireRecentAuthentication} with the password
 * field of its form (if any) before it changes anything.
 */
import { Clock, Effect, Redacted, Schema } from "effect"
import { answer, httpAnswer } from "../errors/http-answer.ts"
import { CurrentPrincipal } from "./access.ts"
import { Login } from "./login.ts"

export const REAUTH_WINDOW_MINUTES = 5

/** 403 with code `reauthentication_required`: the action needs the password (again). */
export class ReauthenticationRequired extends Schema.TaggedError<ReauthenticationRequired>()(
  "ReauthenticationRequired",
  { message: Schema.String }
) {
  get [httpAnswer]() {
    return answer(403, "reauthentication_required", "Confirm with your password")
  }
}

/**
 * Succeeds when the current principal may perform a dangerous action now: an API key (no password
 * to ask for), or a session that authenticated within the window, or one whose `password` is
 * right (which restarts the window). Otherwise fails with {@link ReauthenticationRequired}.
 */
export const requireRecentAuthentication = (password?: string | Redacted.Redacted<string>) =>
  Effect.gen(function* () {
    const principal = yield* CurrentPrincipal
    // API keys are exempt: there is no password behind them, and they are scoped and revocable.
    if (principal.kind === "api_key") return
    const session = principal.session
    if (session === undefined)
      return yield* new ReauthenticationRequired({ message: "this action needs a signed-in user" })
    const now = yield* Clock.currentTimeMillis
    if (now - session.authenticatedAt.getTime() < REAUTH_WINDOW_MINUTES * 60_000) return
    const given = password === undefined ? "" : Redacted.isRedacted(password) ? Redacted.value(password) : password
    if (given === "")
      return yield* new ReauthenticationRequired({
        message: `you signed in more than ${REAUTH_WINDOW_MINUTES} minutes ago: enter your password again to confirm this action`
      })
    const ok = yield* (yield* Login).reauthenticate(principal, Redacted.make(given))
    if (!ok)
      return yield* new ReauthenticationRequired({
        message: "the password is wrong: enter your password again to confirm this action"
      })
  })
