/**
 * The seam between routes and identity: who is asking, and may they. The route table calls
 * {@link AccessControl.authorize} before every non-public handler; the identity module provides the
 * real implementation.
 */
import { Context, Effect, Layer, Schema } from "effect"
import type { HttpServerRequest } from "effect/http"
import { type Permission, permissions } from "./permissions.ts"

/** Who made a request. */
export interface Principal {
  readonly kind: "user" | "api_key" | "system" | "anonymous"
  readonly id: string
  readonly name: string
  readonly permissions: ReadonlySet<Permission>
}

/** No (valid) credentials: pages redirect to the login page, the API answers 401. */
export class Unauthenticated extends Schema.TaggedError<Unauthenticated>()("Unauthenticated", {
  message: Schema.String
}) {}

/** Authenticated, but without the permission the route declares: 403. */
export class Forbidden extends Schema.TaggedError<Forbidden>()("Forbidden", {
  message: Schema.String,
  permission: Schema.String
}) {}

/** The principal of the current request, available to every non-public handler. */
export class CurrentPrincipal extends Context.Service<CurrentPrincipal, Principal>()("breakwater/CurrentPrincipal") {}

export interface AccessControlShape {
  /** The principal of a request, if it carries valid credentials. */
  readonly identify: (request: HttpServerRequest.HttpServerRequest) => Effect.Effect<Principal | undefined>
  /** Identifies the caller and checks the permission; denials are the implementation's to record. */
  readonly authorize: (
    request: HttpServerRequest.HttpServerRequest,
    permission: Permission
  ) => Effect.Effect<Principal, Unauthenticated | Forbidden>
}

export class AccessControl extends Context.Service<AccessControl, AccessControlShape>()("breakwater/AccessControl") {
  /**
   * Single-operator mode: every request acts as the local operator with every permission. This is
   * the foundation's default until the identity module provides sign-in; it is only safe on a
   * loopback-bound console, which is the default `HOST`.
   */
  static readonly layerLocalOperator = Layer.succeed(AccessControl, {
    identify: () => Effect.succeed(localOperator),
    authorize: () => Effect.succeed(localOperator)
  })
}

export const localOperator: Principal = {
  kind: "system",
  id: "local-operator",
  name: "local operator",
  permissions: new Set(permissions)
}

/** The principal of a public request without credentials: holds no permission. */
export const anonymous: Principal = { kind: "anonymous", id: "anonymous", name: "anonymous", permissions: new Set() }
