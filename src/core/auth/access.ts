/**
 * The seam between routes and identity: who is asking, and may they. The route table calls
 * {@link AccessControl.authorize} before every handler, public or not; the implementation
 * (`access-control.ts`) identifies the caller by session cookie or bearer key, refuses
 * cross-site and token-less state changes, checks the permission and audits every denial.
 */
import { Context, type Effect, Schema } from "effect"
import type { HttpServerError, HttpServerRequest } from "effect/http"
import type { ServiceUnavailable, TooManyRequests } from "../errors/generic.ts"
import { answer, httpAnswer } from "../errors/http-answer.ts"
import type { Permission } from "./permissions.ts"
import type { Role } from "./roles.ts"

/** What a cookie session adds to its principal. */
export interface SessionFacts {
  /** SHA-256 of the session id the cookie carries: the key of the session row. */
  readonly idHash: string
  /** The per-session token every state-changing form and htmx request must echo. */
  readonly csrfToken: string
  /** When the password was last entered in this session (re-authentication). */
  readonly authenticatedAt: Date
}

/** Who made a request. */
export interface Principal {
  readonly kind: "user" | "api_key" | "system" | "anonymous"
  readonly id: string
  readonly name: string
  readonly permissions: ReadonlySet<Permission>
  /** A user's role (API keys have scopes instead). */
  readonly role?: Role
  /** The user behind the principal: the user, or an API key's owner (a key acts as its owner). */
  readonly person?: string
  readonly email?: string
  /** Present when the principal came from a session cookie (not from a bearer key). */
  readonly session?: SessionFacts
}

/** No (valid) credentials: pages redirect to the login page, the API answers 401. */
export class Unauthenticated extends Schema.TaggedError<Unauthenticated>()("Unauthenticated", {
  message: Schema.String
}) {
  get [httpAnswer]() {
    return answer(401, "unauthenticated", "Sign in required")
  }
}

/** Authenticated, but without the permission the route declares: 403. */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  message: Schema.String,
  permission: Schema.String
}) {
  get [httpAnswer]() {
    return answer(403, "forbidden", "Forbidden")
  }
}

/** A state-changing request that is cross-site or lacks the session's CSRF token: 403. */
export class CsrfRejected extends Schema.TaggedError<CsrfRejected>()("CsrfRejected", {
  message: Schema.String
}) {
  get [httpAnswer]() {
    return answer(403, "csrf_rejected", "Request refused")
  }
}

/** The principal of the current request, available to every handler. */
export class CurrentPrincipal extends Context.Service<CurrentPrincipal, Principal>()("breakwater/CurrentPrincipal") {}

/** What a route requires: a permission, or nothing (`"public"`). */
export type RequiredAccess = Permission | "public"

export interface AccessControlShape {
  /** The principal of a request, if it carries valid credentials. No checks, no audit. */
  readonly identify: (
    request: HttpServerRequest.HttpServerRequest
  ) => Effect.Effect<Principal | undefined, ServiceUnavailable>
  /**
   * For long-lived answers (event streams): the request's caller as the stores know it now,
   * without the cache of verified API keys, so a revoked key, an ended session or a removed
   * permission is seen. Answers for one credential are shared for a second, so a thousand streams
   * of one key cost one query. While the database is down, as `identify`.
   */
  readonly recheck: (
    request: HttpServerRequest.HttpServerRequest
  ) => Effect.Effect<Principal | undefined, ServiceUnavailable>
  /**
   * Identifies the caller, refuses an API key over its rate limit (429, not audited: a flood
   * would flood the audit log), refuses cross-site or token-less state changes, and checks the
   * permission (a public route gets the caller or {@link anonymous}). Every other denial is audited,
   * except a page read (`GET`) without credentials, which is simply sent to sign in.
   */
  readonly authorize: (
    request: HttpServerRequest.HttpServerRequest,
    access: RequiredAccess
  ) => Effect.Effect<
    Principal,
    | Unauthenticated
    | Forbidden
    | CsrfRejected
    | TooManyRequests
    | ServiceUnavailable
    // The form body (which may carry the CSRF token) could not be read.
    | HttpServerError.HttpServerError
  >
}

export class AccessControl extends Context.Service<AccessControl, AccessControlShape>()("breakwater/AccessControl") {}

/** The principal of a public request without credentials: holds no permission. */
export const anonymous: Principal = { kind: "anonymous", id: "anonymous", name: "anonymous", permissions: new Set() }
