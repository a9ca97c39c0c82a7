/**
 * Sign-in and sign-out: `GET/POST /login` (public) and `POST /logout`; and `POST /reauthenticate`,
 * the one password confirmation an administration page asks for when the sign-in is old.
 */
import { Effect, Redacted, Schema } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { CurrentPrincipal } from "../../core/auth/access.ts"
import { Login } from "../../core/auth/login.ts"
import { requireRecentAuthentication } from "../../core/auth/reauth.ts"
import { SESSION_COOKIE, SESSION_COOKIE_OPTIONS } from "../../core/auth/sessions.ts"
import { decodeForm, decodeQuery } from "../../core/http/decode.ts"
import { page } from "../../core/http/page.ts"
import type { RouteSpec } from "../../core/http/route.ts"
import { safeNextPath } from "../../core/http/safe-redirect.ts"
import type { CoreServices } from "../../core/module.ts"
import { RequestInfo } from "../../core/request-info.ts"
import { LOGIN_REFUSED, loginPage } from "./login-page.ts"

const LoginQuery = Schema.Struct({ next: Schema.optional(Schema.String) })

const LoginForm = Schema.Struct({
  email: Schema.String.check(Schema.isMaxLength(254)),
  password: Schema.String.check(Schema.isMaxLength(256)),
  next: Schema.optional(Schema.String)
})

const seeOther = (location: string) => HttpServerResponse.redirect(location, { status: 303 })

const ReauthForm = Schema.Struct({
  password: Schema.String.check(Schema.isMaxLength(256)),
  next: Schema.optional(Schema.String)
})

/** The page to come back to, marked so it can say the password was wrong. */
const withWrongMark = (path: string) => {
  const url = new URL(path, "http://breakwater.invalid")
  url.searchParams.set("reauth", "wrong")
  return `${url.pathname}${url.search}`
}

export const loginRoutes: ReadonlyArray<RouteSpec<CoreServices>> = [
  {
    method: "GET",
    path: "/login",
    access: "public",
    summary: "The sign-in form.",
    handler: Effect.gen(function* () {
      const principal = yield* CurrentPrincipal
      const next = safeNextPath((yield* decodeQuery(LoginQuery)).next)
      if (principal.kind !== "anonymous") return seeOther(next ?? "/")
      return yield* page("Sign in", loginPage({ next, email: "", error: undefined, csrfToken: undefined }))
    })
  },
  {
    method: "POST",
    path: "/login",
    access: "public",
    summary: "Signs in: a new session on success, one generic refusal otherwise.",
    handler: Effect.gen(function* () {
      const form = yield* decodeForm(LoginForm)
      const request = yield* HttpServerRequest.HttpServerRequest
      const info = yield* RequestInfo
      const principal = yield* CurrentPrincipal
      const next = safeNextPath(form.next)
      const outcome = yield* (yield* Login).login({
        email: form.email,
        password: Redacted.make(form.password),
        meta: { clientAddress: info.clientAddress, userAgent: request.headers["user-agent"] },
        previousSession: request.cookies[SESSION_COOKIE]
      })
      if (outcome._tag === "Refused") {
        return yield* page(
          "Sign in",
          loginPage({ next, email: form.email, error: LOGIN_REFUSED, csrfToken: principal.session?.csrfToken }),
          { status: 401 }
        )
      }
      return HttpServerResponse.setCookieUnsafe(
        seeOther(next ?? "/"),
        SESSION_COOKIE,
        Redacted.value(outcome.session.id),
        SESSION_COOKIE_OPTIONS
      )
    })
  },
  {
    method: "POST",
    path: "/reauthenticate",
    // Every role holds it: confirming one's own password needs no other right.
    access: "VIEW_DASHBOARD",
    summary: "Confirms the signed-in user's password, so the page's dangerous changes work for the next minutes.",
    handler: Effect.gen(function* () {
      const form = yield* decodeForm(ReauthForm)
      const back = safeNextPath(form.next) ?? "/"
      return yield* requireRecentAuthentication(form.password).pipe(
        Effect.as(seeOther(back)),
        Effect.catchTag("ReauthenticationRequired", () => Effect.succeed(seeOther(withWrongMark(back))))
      )
    })
  },
  {
    // Public so that a browser whose session already ended can still clear its cookie; a live
    // session's sign-out passes the CSRF token check like every state change.
    method: "POST",
    path: "/logout",
    access: "public",
    summary: "Signs out: ends the session and clears its cookie.",
    handler: Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      const principal = yield* CurrentPrincipal
      const cookie = request.cookies[SESSION_COOKIE]
      if (cookie !== undefined) yield* (yield* Login).logout(principal, cookie)
      return HttpServerResponse.expireCookieUnsafe(seeOther("/login"), SESSION_COOKIE, SESSION_COOKIE_OPTIONS)
    })
  }
]
