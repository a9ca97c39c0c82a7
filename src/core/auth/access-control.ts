/**
 * The real {@link AccessControl}: identifies the caller (on `/api/` a bearer token through
 * {@link ApiKeyAuthenticator}, else the session cookie; console routes know sessions only),
 * refuses cross-site state changes on every route and token-less ones on cookie sessions, checks
 * the route's permission, and writes an `authz_denied` audit entry for every refusal. An API key
 * over its rate limit ({@link ApiRateLimiter}) is refused 429 first, without an audit entry: a
 * runaway client would flood the audit log. A page load without credentials (a `GET` answered by
 * sending the browser to sign in) is not a denial either: it is how every visit starts, and
 * auditing it would bury the real refusals (API 401s, 403s, CSRF refusals), which still are.
 */
import { Effect, Layer, Option, Redacted } from "effect"
import { type HttpServerRequest, UrlParams } from "effect/http"
import type { SqlError } from "effect/sql"
import { Audit } from "../audit/audit.ts"
import { type Actor, actorOf } from "../audit/entry.ts"
import { isDatabaseOutage } from "../db/outage.ts"
import { ServiceUnavailable, TooManyRequests } from "../errors/generic.ts"
import { wantsJson } from "../http/negotiation.ts"
import { RequestInfo } from "../request-info.ts"
import {
  AccessControl,
  type AccessControlShape,
  anonymous,
  CsrfRejected,
  Forbidden,
  type Principal,
  type RequiredAccess,
  Unauthenticated
} from "./access.ts"
import { ApiKeyAuthenticator } from "./api-key-authenticator.ts"
import { ApiRateLimiter } from "./api-rate-limit.ts"
import { CSRF_FIELD, CSRF_HEADER, crossSiteReason, isStateChanging, tokensMatch } from "./csrf.ts"
import { makeOutageCredentials } from "./outage-credentials.ts"
import { Permissions } from "./permissions.ts"
import { principalOfSession, SESSION_COOKIE, Sessions } from "./sessions.ts"

const anonymousActor: Actor = { type: "anonymous", id: "anonymous", name: "anonymous" }

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i

/**
 * A request without credentials that is answered by sending the browser to sign in (a page or an
 * htmx fragment read with `GET`, see `respond-error.ts`): not audited as a denial. API calls and
 * JSON clients get 401 and state changes are refused: those are audited.
 */
const sentToSignIn = (request: HttpServerRequest.HttpServerRequest): boolean =>
  (request.method === "GET" || request.method === "HEAD") && !wantsJson(request)

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
    const permissions = yield* Permissions
    const apiKeys = yield* ApiKeyAuthenticator
    const audit = yield* Audit
    const limiter = yield* ApiRateLimiter

    const outage = makeOutageCredentials()
    const noCredentials = Effect.succeed(undefined)
    // The driver's words are logged with the answer, never sent to an unknown caller.
    const sessionUnavailable = (error: SqlError.SqlError) =>
      isDatabaseOutage(error)
        ? Effect.fail(new ServiceUnavailable({ message: "sessions cannot be checked right now" }))
        : Effect.die(error)

    // Runs on every request: plain combinators, no generator (see src/core/http/server.ts).
    const identifyFromStores = (
      bearer: string | undefined,
      cookie: string | undefined,
      fresh: boolean
    ): Effect.Effect<Principal | undefined, ServiceUnavailable> => {
      // A bearer token decides alone: a request is never half key, half cookie.
      if (bearer !== undefined)
        return fresh ? apiKeys.authenticateFresh(Redacted.make(bearer)) : apiKeys.authenticate(Redacted.make(bearer))
      if (cookie === undefined) return noCredentials
      return sessions.resolve(cookie).pipe(
        Effect.catch(sessionUnavailable),
        Effect.map((session) => (session === undefined ? undefined : principalOfSession(session, permissions)))
      )
    }

    /**
     * The caller, from the database; while it cannot be asked, a credential it verified within
     * the last minutes still stands (so an operator can trip the breaker during the outage).
     */
    const credentialsOf = (request: HttpServerRequest.HttpServerRequest) => {
      const authorization = request.headers.authorization
      // API keys work on the JSON API only; console pages and forms know sessions alone.
      const bearer =
        authorization === undefined || !request.url.startsWith("/api/") ? undefined : BEARER.exec(authorization)?.[1]
      const cookie = bearer === undefined ? request.cookies[SESSION_COOKIE] : undefined
      const credential = bearer !== undefined ? `bearer:${bearer}` : cookie
      return { bearer, cookie, credential }
    }

    const identifyWith = (request: HttpServerRequest.HttpServerRequest, fresh: boolean) => {
      const { bearer, cookie, credential } = credentialsOf(request)
      if (credential === undefined) return noCredentials
      return Effect.matchEffect(identifyFromStores(bearer, cookie, fresh), {
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

    const identify = (request: HttpServerRequest.HttpServerRequest) => identifyWith(request, false)

    /** Recent rechecks by credential: streams of one key or session share one query a second. */
    const rechecked = new Map<string, { readonly at: number; readonly principal: Principal | undefined }>()
    const RECHECK_SHARED_MS = 1000
    const recheck = (request: HttpServerRequest.HttpServerRequest) =>
      Effect.clockWith((clock) => {
        const { credential } = credentialsOf(request)
        if (credential === undefined) return noCredentials
        const now = clock.currentTimeMillisUnsafe()
        const hit = rechecked.get(credential)
        if (hit !== undefined && now - hit.at < RECHECK_SHARED_MS) return Effect.succeed(hit.principal)
        return Effect.tap(identifyWith(request, true), (principal) =>
          Effect.sync(() => {
            if (rechecked.size > 10_000) rechecked.clear()
            rechecked.set(credential, { at: now, principal })
          })
        )
      })

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
      if (principal === undefined && sentToSignIn(request))
        return Effect.fail(new Unauthenticated({ message: "sign in to continue" }))
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

    const checks = (request: HttpServerRequest.HttpServerRequest, access: RequiredAccess, principal?: Principal) =>
      isStateChanging(request.method)
        ? Effect.andThen(checkStateChange(request, access, principal), () => permit(request, access, principal))
        : permit(request, access, principal)

    const authorize = (request: HttpServerRequest.HttpServerRequest, access: RequiredAccess) =>
      Effect.flatMap(identify(request), (principal) =>
        // The same count as the fast lane's; console sessions are not limited.
        principal?.kind !== "api_key" || limiter.limitPerMinute === 0
          ? checks(request, access, principal)
          : Effect.clockWith((clock): ReturnType<AccessControlShape["authorize"]> => {
              const wait = limiter.take(principal.id, clock.currentTimeMillisUnsafe())
              return wait === undefined
                ? checks(request, access, principal)
                : Effect.fail(new TooManyRequests({ message: limiter.message, retryAfterSeconds: wait }))
            })
      )

    return AccessControl.of({ identify, recheck, authorize })
  })
)
