/**
 * The real {@link AccessControl}: identifies the caller (a bearer token through
 * {@link ApiKeyAuthenticator}, else the session cookie), refuses cross-site state changes on every
 * route and token-less ones on cookie sessions, checks the route's permission, and writes an
 * `authz_denied` audit entry for every refusal.
 */
import { Effect, Layer, Option, Redacted } from "effect"
import { type HttpServerRequest, UrlParams } from "effect/http"
import { Audit } from "../audit/audit.ts"
import { type Actor, actorOf } from "../audit/entry.ts"
import { ServiceUnavailable } from "../http/errors.ts"
import { RequestInfo } from "../http/request-info.ts"
import {
  AccessControl,
  anonymous,
  CsrfRejected,
  Forbidden,
  type Principal,
  type RequiredAccess,
  Unauthenticated
} from "./access.ts"
import { ApiKeyAuthenticator } from "./api-key-authenticator.ts"
import { CSRF_FIELD, CSRF_HEADER, crossSiteReason, isStateChanging, tokensMatch } from "./csrf.ts"
import { makeOutageCredentials } from "./outage-credentials.ts"
import { principalOfSession, SESSION_COOKIE, Sessions } from "./sessions.ts"

const anonymousActor: Actor = { type: "anonymous", id: "anonymous", name: "anonymous" }

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

/** The CSRF token a request carries: the header (htmx, scripts), else the form field. */
const csrfTokenOf = (request: HttpServerRequest.HttpServerRequest) =>
  Effect.gen(function* () {
    const header = request.headers[CSRF_HEADER]
    if (header !== undefined) return header
    const type = request.headers["content-type"] ?? ""
    if (!type.toLowerCase().startsWith("application/x-www-form-urlencoded")) return undefined
    // The body is read once and cached by the request, so the handler can still decode it.
    const params = yield* request.urlParamsBody
    return Option.getOrUndefined(UrlParams.getFirst(params, CSRF_FIELD))
  })

export const AccessControlLive = Layer.effect(
  AccessControl,
  Effect.gen(function* () {
    const sessions = yield* Sessions
    const apiKeys = yield* ApiKeyAuthenticator
    const audit = yield* Audit

    const outage = makeOutageCredentials()
    const noCredentials = Effect.succeed(undefined)
    const sessionUnavailable = (cause: { readonly message: string }) =>
      new ServiceUnavailable({ message: "sessions cannot be checked right now", details: { cause: cause.message } })

    // Runs on every request: plain combinators, no generator (see src/core/http/server.ts).
    const identifyFromStores = (
      bearer: string | undefined,
      cookie: string | undefined
    ): Effect.Effect<Principal | undefined, ServiceUnavailable> => {
      // A bearer token decides alone: a request is never half key, half cookie.
      if (bearer !== undefined) return apiKeys.authenticate(Redacted.make(bearer))
      if (cookie === undefined) return noCredentials
      return sessions.resolve(cookie).pipe(
        Effect.mapError(sessionUnavailable),
        Effect.map((session) => (session === undefined ? undefined : principalOfSession(session)))
      )
    }

    /**
     * The caller, from the database; while it cannot be asked, a credential it verified within
     * the last minutes still stands (so an operator can trip the breaker during the outage).
     */
    const identify = (request: HttpServerRequest.HttpServerRequest) => {
      const authorization = request.headers.authorization
      const bearer = authorization === undefined ? undefined : BEARER.exec(authorization)?.[1]
      const cookie = bearer === undefined ? request.cookies[SESSION_COOKIE] : undefined
      const credential = bearer !== undefined ? `bearer:${bearer}` : cookie
      if (credential === undefined) return noCredentials
      return Effect.matchEffect(identifyFromStores(bearer, cookie), {
        onSuccess: (principal) =>
          Effect.clockWith((clock) => {
            if (principal === undefined) outage.forget(credential)
            else outage.remember(credential, principal, clock.currentTimeMillisUnsafe())
            return Effect.succeed(principal)
          }),
        onFailure: (error) =>
          Effect.clockWith((clock) => {
            // Recalled, not re-verified: the grace period counts from the last real verification.
            const recalled = outage.recall(credential, clock.currentTimeMillisUnsafe())
            if (recalled === undefined) return Effect.fail(error)
            return Effect.as(
              Effect.logWarning(
                `the database cannot check credentials: accepting ${recalled.kind} ${recalled.name}, verified within the last minutes`
              ),
              recalled
            )
          })
      })
    }

    /** Audits the refusal, then fails with `error`. A failed audit write is logged, never a reason to allow. */
    const deny = <E>(
      request: HttpServerRequest.HttpServerRequest,
      principal: Principal | undefined,
      access: RequiredAccess,
      reason: string,
      error: E
    ) =>
      Effect.gen(function* () {
        const info = yield* RequestInfo
        const path = request.url.split("?")[0] ?? "/"
        yield* audit
          .record({
            actor: principal === undefined ? anonymousActor : actorOf(principal),
            action: "authz_denied",
            resourceType: "route",
            resourceId: `${request.method} ${info.route ?? path}`,
            outcome: "denied",
            reason,
            details: {
              method: request.method,
              route: info.route ?? null,
              path: path.slice(0, 512),
              permission: access === "public" ? null : access
            }
          })
          .pipe(Effect.catchTag("AuditWriteFailed", (e) => Effect.logError("a denied request could not be audited", e)))
        return yield* Effect.fail(error)
      })

    /** The permission check, once the caller is known and any state change has passed its checks. */
    const permit = (
      request: HttpServerRequest.HttpServerRequest,
      access: RequiredAccess,
      principal: Principal | undefined
    ): Effect.Effect<Principal, Unauthenticated | Forbidden> => {
      if (access === "public") return Effect.succeed(principal ?? anonymous)
      if (principal === undefined)
        return deny(
          request,
          undefined,
          access,
          "no valid credentials",
          new Unauthenticated({ message: "sign in to continue" })
        )
      if (!principal.permissions.has(access))
        return deny(
          request,
          principal,
          access,
          `missing permission ${access}`,
          new Forbidden({ message: `this needs the permission ${access}`, permission: access })
        )
      return Effect.succeed(principal)
    }

    /** Cross-site and CSRF checks of a state-changing request. */
    const checkStateChange = (
      request: HttpServerRequest.HttpServerRequest,
      access: RequiredAccess,
      principal: Principal | undefined
    ) =>
      Effect.gen(function* () {
        const crossSite = crossSiteReason({
          origin: request.headers.origin,
          host: request.headers.host,
          "sec-fetch-site": request.headers["sec-fetch-site"]
        })
        if (crossSite !== undefined)
          return yield* deny(
            request,
            principal,
            access,
            `cross-site request: ${crossSite}`,
            new CsrfRejected({ message: "cross-site requests may not change anything here" })
          )
        // Bearer-authenticated requests carry no cookie, so they cannot be forged by a browser.
        if (principal?.session !== undefined && !tokensMatch(yield* csrfTokenOf(request), principal.session.csrfToken))
          return yield* deny(
            request,
            principal,
            access,
            "CSRF token missing or wrong",
            new CsrfRejected({
              message: "the form is outdated or was not sent by this console: reload the page and try again"
            })
          )
      })

    const authorize = (request: HttpServerRequest.HttpServerRequest, access: RequiredAccess) =>
      Effect.flatMap(identify(request), (principal) =>
        isStateChanging(request.method)
          ? Effect.andThen(checkStateChange(request, access, principal), () => permit(request, access, principal))
          : permit(request, access, principal)
      )

    return AccessControl.of({ identify, authorize })
  })
)
