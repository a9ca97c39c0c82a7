/**
 * The HTTP server: every route of the route table behind its access check, wrapped in the request
 * pipeline (request id, request log, error mapping), served by Node with a graceful shutdown.
 */

import { randomUUID } from "node:crypto"
import { createServer } from "node:http"
import { flushCompileCache } from "node:module"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { Clock, Effect, Layer, type Scope } from "effect"
import { HttpRouter, HttpServer, HttpServerRequest, HttpServerResponse } from "effect/http"
import { AccessControl, CurrentPrincipal, type Principal } from "../auth/access.ts"
import { AppConfig } from "../config.ts"
import { Navigation } from "../navigation.ts"
import { Metrics } from "../observability/metrics.ts"
import { RequestInfo, type RequestInfoShape } from "./request-info.ts"
import { respondToFailure } from "./respond-error.ts"
import { type RegisteredRoute, RouteTable } from "./route.ts"

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/

/** Paths polled by machines; their request lines are logged at debug level. */
const quietPath = (path: string) =>
  path === "/healthz" || path === "/readyz" || path === "/metrics" || path.startsWith("/assets/")

/** One route behind its access check; failures become responses here, where the principal is known. */
const guardRoute = (route: RegisteredRoute, access: AccessControl["Service"]) =>
  Effect.gen(function* () {
    const info = yield* RequestInfo
    info.route = route.path
    yield* Effect.annotateCurrentSpan({ "http.route": route.path })
    const request = yield* HttpServerRequest.HttpServerRequest
    let principal: Principal | undefined
    const run = Effect.gen(function* () {
      // Public routes too: the cross-site check applies to every state change, sign-in included.
      principal = yield* access.authorize(request, route.access)
      return yield* Effect.provideService(route.handler, CurrentPrincipal, principal)
    })
    return yield* run.pipe(
      Effect.catchCause((cause) =>
        Effect.gen(function* () {
          // A refused request still shows its user their navigation on the error page.
          const shown =
            principal ??
            (yield* access
              .identify(request)
              .pipe(Effect.catchTag("ServiceUnavailable", () => Effect.succeed(undefined))))
          return yield* respondToFailure(cause, request, info.requestId, shown)
        })
      )
    )
  })

/** Request id, request log and metrics, and the last-resort error mapping around the router. */
const pipeline = (
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, HttpServerRequest.HttpServerRequest | Scope.Scope>,
  access: AccessControl["Service"],
  metrics: Metrics["Service"]
) => {
  const requests = metrics.counter({
    name: "breakwater_http_requests_total",
    help: "HTTP requests answered, by method, route template and status.",
    labelNames: ["method", "route", "status"]
  })
  const duration = metrics.histogram({
    name: "breakwater_http_request_duration_seconds",
    help: "Time to answer an HTTP request, by route template.",
    labelNames: ["method", "route"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
  })
  return Effect.gen(function* () {
    const request = yield* HttpServerRequest.HttpServerRequest
    const given = request.headers["x-request-id"]
    const requestId = given !== undefined && REQUEST_ID.test(given) ? given : randomUUID()
    const startedAt = yield* Clock.currentTimeMillis
    const info: RequestInfoShape = {
      requestId,
      clientAddress: request.remoteAddress._tag === "Some" ? request.remoteAddress.value : "unknown",
      startedAt,
      route: undefined
    }
    const response = yield* app.pipe(
      Effect.catchCause((cause) =>
        access.identify(request).pipe(
          // Only for the navigation of the error page: without the session store it shows none.
          Effect.catchTag("ServiceUnavailable", () => Effect.succeed(undefined)),
          Effect.flatMap((principal) => respondToFailure(cause, request, requestId, principal))
        )
      ),
      Effect.provideService(RequestInfo, info),
      Effect.annotateLogs({ requestId })
    )
    const ms = (yield* Clock.currentTimeMillis) - startedAt
    const path = request.url.split("?")[0] ?? "/"
    const route = info.route ?? "unmatched"
    requests.inc({ method: request.method, route, status: String(response.status) })
    duration.observe({ method: request.method, route }, ms / 1000)
    const log = quietPath(path) && response.status < 400 ? Effect.logDebug : Effect.logInfo
    yield* log("request").pipe(
      Effect.annotateLogs({ requestId, method: request.method, route, path, status: response.status, durationMs: ms })
    )
    return HttpServerResponse.setHeader(response, "x-request-id", requestId)
  })
}

/** Serves the route table. Build it after every module has registered its routes. */
export const HttpApp: Layer.Layer<
  never,
  never,
  HttpServer.HttpServer | RouteTable | AccessControl | Metrics | Navigation
> = Layer.unwrap(
  Effect.gen(function* () {
    const table = yield* RouteTable
    const access = yield* AccessControl
    const metrics = yield* Metrics
    const navigation = yield* Navigation
    const routes = yield* table.routes
    const router = yield* HttpRouter.make
    for (const route of routes) {
      const handler = guardRoute(route, access).pipe(Effect.provideService(Navigation, navigation))
      yield* router.add(route.method, route.path, handler)
    }
    const app = pipeline(router.asHttpEffect(), access, metrics).pipe(Effect.provideService(Navigation, navigation))
    const announce = Layer.effectDiscard(
      Effect.gen(function* () {
        const server = yield* HttpServer.HttpServer
        const address = HttpServer.formatAddress(server.address)
        yield* Effect.logInfo(`Breakwater is serving on ${address} (${routes.length} routes)`)
        // Write the compile cache now rather than at exit, so a SIGTERM exit is not slowed by it.
        flushCompileCache()
        yield* Effect.addFinalizer(() => Effect.logInfo("HTTP server stopping: draining in-flight requests"))
      })
    )
    return Layer.merge(HttpServer.serve(app), announce)
  })
)

/** The Node HTTP server on HOST:PORT; on shutdown it stops accepting and lets in-flight requests finish. */
export const NodeServerLive = Layer.unwrap(
  Effect.gen(function* () {
    const config = yield* AppConfig
    return NodeHttpServer.layer(createServer, {
      port: config.port,
      host: config.host,
      gracefulShutdownTimeout: `${config.shutdownGraceSeconds} seconds`
    })
  })
)
