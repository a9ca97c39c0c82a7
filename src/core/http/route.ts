/**
 * Route declarations. Every route says what it needs: a permission, or `"public"`. The route table
 * refuses a route without a valid declaration when the application starts (deny by default).
 */
import { Context, Effect, Layer, Schema } from "effect"
import type { HttpRouter, HttpServerRequest, HttpServerResponse } from "effect/http"
import type { CurrentPrincipal } from "../auth/access.ts"
import { type Permission, Permissions } from "../auth/permissions.ts"

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE"

/** `"public"` routes run for anyone; others need the named permission. */
export type Access = Permission | "public"

/** What a handler may ask for besides its module's services. */
export type RequestServices =
  | HttpServerRequest.HttpServerRequest
  | HttpRouter.RouteContext
  | HttpServerRequest.ParsedSearchParams
  | CurrentPrincipal

/** What the OpenAPI description says about a route's input and output. */
export interface RouteDocs {
  readonly params?: Schema.Top
  readonly query?: Schema.Top
  readonly body?: Schema.Top
  /** The body may be left out (every field optional; read with `decodeOptionalJson`). */
  readonly bodyOptional?: true
  readonly response?: Schema.Top
  /** Further answers besides the standard errors, e.g. `{ 409: "another reset won" }`. */
  readonly responses?: Readonly<Record<number, string>>
  readonly tags?: ReadonlyArray<string>
}

/** A JSON answer computed synchronously from memory, for the HTTP fast lane. */
export interface FastAnswer {
  readonly status: number
  readonly body: string
}

/**
 * The fast lane's handler: the route's path parameters in, an answer out, or `undefined` to let
 * the request take the normal path (which then handles it fully, errors included).
 */
export type FastRead = (params: Readonly<Record<string, string>>) => FastAnswer | undefined

export interface RouteSpec<R = never> {
  readonly method: HttpMethod
  /** A path template, e.g. `/api/v1/breaker/:scope`. */
  readonly path: `/${string}`
  readonly access: Access
  /** One line for the route listing and docs. */
  readonly summary: string
  readonly handler: Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, R | RequestServices>
  /**
   * For public GET routes whose answer never depends on the caller (static assets, probes): no
   * session or API key lookup, the handler sees `anonymous`. Saves a database query per request
   * from a signed-in browser.
   */
  readonly skipIdentity?: true
  /**
   * For the hottest reads only (a GET under `/api/` polled by machines): builds a synchronous
   * answer served before the Effect pipeline to an API key this process verified seconds ago and
   * that holds the route's permission. Everything else (no key, an unverified key, a refusal,
   * `undefined` from the function) takes the normal path. See ADR 0012.
   */
  readonly fast?: Effect.Effect<FastRead, never, R>
  /** Schemas for the OpenAPI description (`/api/*` routes should have them). */
  readonly docs?: RouteDocs
}

/** A route whose module services are already provided. */
export interface RegisteredRoute extends RouteSpec<never> {
  readonly module: string
}

export class RouteDeclarationError extends Schema.TaggedError<RouteDeclarationError>()("RouteDeclarationError", {
  message: Schema.String
}) {}

/** Checks one declaration; the type system already demands `access`, this catches the rest. */
export const validateRoute = (
  route: RegisteredRoute,
  existing: ReadonlyArray<RegisteredRoute>,
  isPermission: (value: unknown) => boolean
): string | undefined => {
  const access: unknown = route.access
  if (access !== "public" && !isPermission(access))
    return `route ${route.method} ${route.path} (module ${route.module}) declares no valid permission: ${String(access)}`
  if (!route.path.startsWith("/")) return `route path ${route.path} must start with /`
  // A state change always needs the cross-site check, which needs the caller.
  if (route.skipIdentity === true && (access !== "public" || route.method !== "GET"))
    return `route ${route.method} ${route.path} (module ${route.module}) may skip identity only as a public GET`
  if (route.fast !== undefined && (access === "public" || route.method !== "GET" || !route.path.startsWith("/api/")))
    return `route ${route.method} ${route.path} (module ${route.module}) may have a fast lane only as a GET under /api/ that needs a permission`
  const clash = existing.find((r) => r.method === route.method && r.path === route.path)
  if (clash !== undefined)
    return `route ${route.method} ${route.path} is declared by both ${clash.module} and ${route.module}`
  return undefined
}

export interface RouteTableShape {
  readonly add: (routes: ReadonlyArray<RegisteredRoute>) => Effect.Effect<void, RouteDeclarationError>
  readonly routes: Effect.Effect<ReadonlyArray<RegisteredRoute>>
}

/** Every route of the application, as the modules declared them. */
export class RouteTable extends Context.Service<RouteTable, RouteTableShape>()("breakwater/RouteTable") {
  static readonly layer = Layer.effect(
    RouteTable,
    Effect.gen(function* () {
      const permissions = yield* Permissions
      const all: Array<RegisteredRoute> = []
      return {
        add: (routes) =>
          Effect.suspend(() => {
            for (const r of routes) {
              const problem = validateRoute(r, all, permissions.isPermission)
              if (problem !== undefined) return Effect.fail(new RouteDeclarationError({ message: problem }))
              all.push(r)
            }
            return Effect.void
          }),
        routes: Effect.sync(() => [...all])
      }
    })
  )
}
