/**
 * The HTTP server: every route of the route table behind its access check, wrapped in the request
 * pipeline (request id, request log, error mapping), served by Node with a graceful shutdown.
 */

import { randomUUID } from "node:crypto"
import { flushCompileCache } from "node:module"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { ByteSize, Cause, Clock, Context, Effect, Layer, LogLevel, type Scope, Stream, Tracer } from "effect"
import {
  HttpBody,
  HttpIncomingMessage,
  HttpRouter,
  HttpServer,
  HttpServerRequest,
  HttpServerResponse
} from "effect/http"
import { AccessControl, anonymous, CurrentPrincipal, type Principal } from "../auth/access.ts"
import { ApiKeyAuthenticator } from "../auth/api-key-authenticator.ts"
import { ApiRateLimiter } from "../auth/api-rate-limit.ts"
import { isStateChanging } from "../auth/csrf.ts"
import type { Permission } from "../auth/permissions.ts"
import { AppConfig } from "../config.ts"
import { ErrorAnswers } from "../errors/declared-answers.ts"
import { PayloadTooLarge } from "../errors/generic.ts"
import { appliesTo as takesIdempotencyKey } from "../idempotency/policy.ts"
import { Navigation } from "../navigation.ts"
import { writeLogLine } from "../observability/logging.ts"
import { Metrics } from "../observability/metrics.ts"
import { RequestInfo, type RequestInfoShape } from "../request-info.ts"
import { clientAddressOf, trustedProxies } from "./client-address.ts"
import { ConsoleParts } from "./console-parts.ts"
import { FastLane, FastLaneServer, type FastRoute, makeFastHandler } from "./fast-lane.ts"
import { Idempotency } from "./idempotency.ts"
import { internalErrorJson } from "./negotiation.ts"
import { type DeclaredAnswers, respondToFailure } from "./respond-error.ts"
import { type RegisteredRoute, RouteTable } from "./route.ts"
import { PRIVATE_CACHE_CONTROL, SECURITY_HEADERS } from "./security-headers.ts"

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/

/** Paths polled by machines; their request lines are logged at debug level. */
const quietPath = (path: string) =>
  path === "/healthz" || path === "/readyz" || path === "/metrics" || path.startsWith("/assets/")

/*
 * The per-request path below uses flatMap/contextWith rather than `Effect.gen(function* …)` built
 * per call: creating a generator function costs over a microsecond on Node 24, several times the
 * rest of a step. It also adds as few services to the request's context as it can, since every
 * addition past Effect's overlay limit (8) copies the whole context.
 */

/** The request metrics, shared by the pipeline and the fast lane (a name asked twice is one metric). */
const httpMetrics = (metrics: Metrics["Service"]) => ({
  requests: metrics.counter({
    name: "breakwater_http_requests_total",
    help: "HTTP requests answered, by method, route template and status.",
    labelNames: ["method", "route", "status"]
  }),
  duration: metrics.histogram({
    name: "breakwater_http_request_duration_seconds",
    help: "Time to answer an HTTP request, by route template.",
    labelNames: ["method", "route"],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
  })
})

/** Body limits: the API's for JSON routes that need a principal; the small one for forms and public routes. */
export interface BodyLimits {
  readonly api: number
  readonly form: number
}

/** The largest body a route accepts: anonymous callers and HTML forms get the small limit. */
export const bodyLimitOf = (route: RegisteredRoute, limits: BodyLimits): number =>
  route.access !== "public" && route.path.startsWith("/api/") ? limits.api : limits.form

/** A declared `Content-Length` over the limit is refused before a byte of the body is read. */
const declaredTooLarge = (request: HttpServerRequest.HttpServerRequest, limit: number): PayloadTooLarge | undefined => {
  const declared = request.headers["content-length"]
  if (declared === undefined || !(Number(declared) > limit)) return undefined
  return new PayloadTooLarge({ message: `the request body may be at most ${limit} bytes here`, limitBytes: limit })
}

/** What an error page needs besides the request: the navigation and the modules' page status. */
type PageChrome = Context.Context<Navigation | ConsoleParts>

/** One route behind its access check; failures become responses here, where the principal is known. */
const guardRoute = (
  route: RegisteredRoute,
  access: AccessControl["Service"],
  chrome: PageChrome,
  traced: boolean,
  limits: BodyLimits,
  idempotency: Idempotency["Service"],
  declared: DeclaredAnswers
) => {
  const span = { "http.route": route.path }
  const keyed = takesIdempotencyKey(route.method, route.path)
  const limit = bodyLimitOf(route, limits)
  const maxBodySize = ByteSize.bytes(limit)
  const shownOnFailure = (request: HttpServerRequest.HttpServerRequest, principal: Principal | undefined) =>
    principal !== undefined || route.skipIdentity === true
      ? Effect.succeed(principal)
      : // A refused request still shows its user their navigation on the error page.
        access.identify(request).pipe(Effect.catchTag("ServiceUnavailable", () => Effect.succeed(undefined)))
  return Effect.contextWith((context: Context.Context<HttpServerRequest.HttpServerRequest>) => {
    const info = Context.get(context, RequestInfo)
    const request = Context.get(context, HttpServerRequest.HttpServerRequest)
    info.route = route.path
    let principal: Principal | undefined
    const respond = (cause: Cause.Cause<unknown>, shown: Principal | undefined) =>
      respondToFailure(cause, request, info.requestId, shown, declared).pipe(Effect.provide(chrome))
    // Public routes too: the cross-site check applies to every state change, sign-in included.
    const authorized = route.skipIdentity === true ? Effect.succeed(anonymous) : access.authorize(request, route.access)
    // Without a tracing backend there is no span to annotate.
    const guarded = (traced ? Effect.andThen(Effect.annotateCurrentSpan(span), authorized) : authorized).pipe(
      Effect.flatMap((p) => {
        principal = p
        info.authenticated = p.kind !== "anonymous"
        const handler = Effect.provideService(route.handler, CurrentPrincipal, p)
        // A keyed POST keeps its answer, error answers included: the handler's failures are answered here.
        return keyed
          ? idempotency.guard(
              request,
              p,
              Effect.catchCause(handler, (cause) => respond(cause, p))
            )
          : handler
      })
    )
    // Only a state change has a body to read (the CSRF check may read it before the handler).
    const bounded = !isStateChanging(request.method)
      ? guarded
      : Effect.suspend(() => {
          const tooLarge = declaredTooLarge(request, limit)
          return tooLarge === undefined
            ? Effect.provideService(guarded, HttpIncomingMessage.MaxBodySize, maxBodySize)
            : Effect.fail(tooLarge)
        })
    return bounded.pipe(
      Effect.catchCause((cause) =>
        Effect.flatMap(shownOnFailure(request, principal), (shown) => {
          if (shown !== undefined && shown.kind !== "anonymous") info.authenticated = true
          return respond(cause, shown)
        })
      )
    )
  })
}

/** The answer when even the error page failed: plain JSON with the request id. */
const lastResort = (requestId: string) =>
  HttpServerResponse.text(internalErrorJson(requestId), { status: 500, contentType: "application/json" })

/**
 * A streamed answer that fails after it began can only be cut off; its cause is logged with the
 * request id (a client that goes away interrupts it: not an error).
 */
const loggedStream = (
  response: HttpServerResponse.HttpServerResponse,
  requestId: string
): HttpServerResponse.HttpServerResponse => {
  const body = response.body
  if (body._tag !== "Stream") return response
  const stream = Stream.tapCause(body.stream, (cause) =>
    Cause.hasInterruptsOnly(cause)
      ? Effect.void
      : Effect.logError("a streamed answer failed after it began", cause).pipe(Effect.annotateLogs({ requestId }))
  )
  return HttpServerResponse.setBody(response, HttpBody.stream(stream, body.contentType, body.contentLength))
}

/** Request id, request log and metrics, and the last-resort error mapping around the router. */
const pipeline = Effect.fnUntraced(function* (
  app: Effect.Effect<HttpServerResponse.HttpServerResponse, unknown, HttpServerRequest.HttpServerRequest | Scope.Scope>,
  access: AccessControl["Service"],
  metrics: Metrics["Service"],
  chrome: PageChrome,
  proxyList: ReadonlyArray<string>,
  declared: DeclaredAnswers
) {
  const { requests, duration } = httpMetrics(metrics)
  const proxies = trustedProxies(proxyList)
  // The level is fixed for the life of the process: a disabled request line costs nothing.
  const infoEnabled = yield* LogLevel.isEnabled("Info")
  const debugEnabled = yield* LogLevel.isEnabled("Debug")

  const finish = (
    request: HttpServerRequest.HttpServerRequest,
    info: RequestInfoShape,
    response: HttpServerResponse.HttpServerResponse,
    now: number
  ) => {
    const ms = now - info.startedAt
    const route = info.route ?? "unmatched"
    const status = response.status
    requests.inc({ method: request.method, route, status: String(status) })
    duration.observe({ method: request.method, route }, ms / 1000)
    // Static assets keep their own caching; every other answer, and any answer to a known caller, is not stored.
    const cacheControl =
      info.authenticated || response.headers["cache-control"] === undefined
        ? { "cache-control": PRIVATE_CACHE_CONTROL }
        : {}
    const withId = HttpServerResponse.setHeaders(loggedStream(response, info.requestId), {
      ...SECURITY_HEADERS,
      ...cacheControl,
      "x-request-id": info.requestId
    })
    const path = request.url.split("?")[0] ?? "/"
    const quiet = quietPath(path) && status < 400
    if (quiet ? !debugEnabled : !infoEnabled) return Effect.succeed(withId)
    return (quiet ? Effect.logDebug : Effect.logInfo)("request").pipe(
      Effect.annotateLogs({
        requestId: info.requestId,
        method: request.method,
        route,
        path,
        status,
        durationMs: ms
      }),
      Effect.as(withId)
    )
  }

  return Effect.contextWith((context: Context.Context<HttpServerRequest.HttpServerRequest>) => {
    const request = Context.get(context, HttpServerRequest.HttpServerRequest)
    const clock = Context.get(context, Clock.Clock)
    const given = request.headers["x-request-id"]
    const info: RequestInfoShape = {
      requestId: given !== undefined && REQUEST_ID.test(given) ? given : randomUUID(),
      clientAddress: clientAddressOf(
        request.remoteAddress._tag === "Some" ? request.remoteAddress.value : undefined,
        proxies === undefined ? undefined : request.headers["x-forwarded-for"],
        proxies
      ),
      startedAt: clock.currentTimeMillisUnsafe(),
      route: undefined,
      authenticated: false
    }
    // Log lines written while the request runs carry its id: the logger reads RequestInfo.
    return app.pipe(
      Effect.catchCause((cause) =>
        access.identify(request).pipe(
          // Only for the navigation of the error page: without the session store it shows none.
          Effect.catchTag("ServiceUnavailable", () => Effect.succeed(undefined)),
          Effect.flatMap((principal) => respondToFailure(cause, request, info.requestId, principal, declared)),
          Effect.provide(chrome),
          // Even the error page failing must not leave the client without an answer.
          Effect.catchCause((secondary) =>
            Effect.as(
              Effect.logError("the error answer itself failed", Cause.combine(cause, secondary)),
              lastResort(info.requestId)
            )
          )
        )
      ),
      Effect.provideService(RequestInfo, info),
      Effect.flatMap((response) => finish(request, info, response, clock.currentTimeMillisUnsafe()))
    )
  })
})

/** Serves the route table. Build it after every module has registered its routes. */
export const HttpApp: Layer.Layer<
  never,
  never,
  | HttpServer.HttpServer
  | RouteTable
  | AccessControl
  | Metrics
  | Navigation
  | ConsoleParts
  | FastLane
  | ApiKeyAuthenticator
  | ApiRateLimiter
  | AppConfig
  | Idempotency
  | ErrorAnswers
> = Layer.unwrap(
  Effect.gen(function* () {
    const { declared } = yield* ErrorAnswers
    const table = yield* RouteTable
    const access = yield* AccessControl
    const metrics = yield* Metrics
    const chrome: PageChrome = Context.make(Navigation, yield* Navigation).pipe(
      Context.add(ConsoleParts, yield* ConsoleParts)
    )
    const routes = yield* table.routes
    const router = yield* HttpRouter.make
    const traced = (yield* Effect.tracer) !== Tracer.nativeTracer
    const config = yield* AppConfig
    const limits: BodyLimits = { api: config.maxApiBodyBytes, form: config.maxFormBodyBytes }
    const idempotency = yield* Idempotency
    for (const route of routes)
      yield* router.add(
        route.method,
        route.path,
        guardRoute(route, access, chrome, traced, limits, idempotency, declared)
      )
    const app = yield* pipeline(router.asHttpEffect(), access, metrics, chrome, config.trustedProxies, declared)
    // Spans matter more than speed when tracing is on: then every request takes the full path.
    if (!traced) yield* installFastLane(routes, metrics)
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

/** Hands the routes that declare a fast read to the server's fast lane. */
const installFastLane = (routes: ReadonlyArray<RegisteredRoute>, metrics: Metrics["Service"]) =>
  Effect.gen(function* () {
    const lane = yield* FastLane
    const keys = yield* ApiKeyAuthenticator
    const limiter = yield* ApiRateLimiter
    const config = yield* AppConfig
    const logged = yield* LogLevel.isEnabled("Info")
    const fast: Array<FastRoute> = []
    for (const route of routes)
      if (route.fast !== undefined)
        fast.push({ path: route.path, permission: route.access as Permission, read: yield* route.fast })
    if (fast.length === 0) return
    const { requests, duration } = httpMetrics(metrics)
    lane.handler = makeFastHandler({
      routes: fast,
      verifiedKey: keys.verifiedUnsafe,
      // The same per-key count as AccessControl's, so both paths share one budget.
      ...(limiter.limitPerMinute === 0 ? {} : { rateLimit: { take: limiter.take, message: limiter.message } }),
      answered: ({ requestId, route, path, status, durationMs }) => {
        requests.inc({ method: "GET", route, status: String(status) })
        duration.observe({ method: "GET", route }, durationMs / 1000)
        if (logged)
          writeLogLine(config.logFormat, "info", "request", {
            requestId,
            method: "GET",
            route,
            path,
            status,
            durationMs
          })
      },
      failed: ({ requestId, route, error }) =>
        writeLogLine(config.logFormat, "error", "request failed in the fast lane", {
          requestId,
          route,
          cause: error instanceof Error ? (error.stack ?? error.message) : String(error)
        })
    })
    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        lane.handler = undefined
      })
    )
  })

/** The Node HTTP server on HOST:PORT; on shutdown it stops accepting and lets in-flight requests finish. */
export const NodeServerLive = Layer.unwrap(
  Effect.gen(function* () {
    const config = yield* AppConfig
    const lane = yield* FastLane
    return NodeHttpServer.layer(() => new FastLaneServer(lane), {
      port: config.port,
      host: config.host,
      gracefulShutdownTimeout: `${config.shutdownGraceSeconds} seconds`
    })
  })
).pipe(Layer.provideMerge(FastLane.layer))
