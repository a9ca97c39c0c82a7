/**
 * `GET /api/v1/breaker/stream`: server-sent events for execution services and the console. On
 * connect one `snapshot` event with every scope, then one event per change (`transition`,
 * `reset_requested`, `scope_created`) from the shared feed, and a keep-alive comment every 15 s.
 * The stream ends when the client goes away (the request fiber is interrupted, the subscription
 * released), when the process begins to shut down (so the drain does not wait for it), or when its
 * credential no longer stands: it is checked again every {@link CREDENTIAL_RECHECK} against the
 * stores (a revoked key, a signed-out or disabled user, a removed permission end the stream within
 * seconds). Frames are written as they come: no buffering, no compression.
 */
import { Effect, Schema, Stream } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { AccessControl, type Principal } from "../../core/auth/access.ts"
import type { Permission } from "../../core/auth/permissions.ts"
import { BreakerChange, BreakerView } from "../../core/contracts/circuit-breaker/model.ts"
import { CircuitBreaker } from "../../core/contracts/circuit-breaker/service.ts"
import type { RouteSpec } from "../../core/http/route.ts"
import { Shutdown } from "../../core/shutdown.ts"
import { BreakerEventFeed } from "./event-feed.ts"
import { snapshotFrame } from "./sse.ts"

/** What the events carry, for the OpenAPI description (the body itself is `text/event-stream`). */
const StreamEvents = Schema.Union([Schema.Struct({ scopes: Schema.Array(BreakerView) }), BreakerChange])

/** How often an open stream's credential is checked again (the answer ends within ~2 of these). */
export const CREDENTIAL_RECHECK = "2 seconds"
const PERMISSION: Permission = "VIEW_CIRCUIT_BREAKER"

const stillAllowed = (principal: Principal | undefined) => principal?.permissions.has(PERMISSION) === true

/** Completes once the request's credential no longer grants the permission. */
const credentialEnds = (access: AccessControl["Service"], request: HttpServerRequest.HttpServerRequest) =>
  access.recheck(request).pipe(
    Effect.map(stillAllowed),
    // While the database cannot be asked the credential stands, as for every request in an outage.
    Effect.catchTag("ServiceUnavailable", () => Effect.succeed(true)),
    Effect.delay(CREDENTIAL_RECHECK),
    Effect.repeat({ while: (allowed) => allowed })
  )

export const streamRoute: RouteSpec<CircuitBreaker | BreakerEventFeed | Shutdown | AccessControl> = {
  method: "GET",
  path: "/api/v1/breaker/stream",
  access: "VIEW_CIRCUIT_BREAKER",
  summary:
    "Server-sent events (text/event-stream): a `snapshot` event `{scopes}` on connect, then one event per change named by its `type` (`transition`, `reset_requested`, `scope_created`), and a `: keep-alive` comment every 15 s.",
  docs: { response: StreamEvents, tags: ["circuit-breaker"] },
  handler: Effect.gen(function* () {
    const breaker = yield* CircuitBreaker
    const feed = yield* BreakerEventFeed
    const shutdown = yield* Shutdown
    const ended = credentialEnds(yield* AccessControl, yield* HttpServerRequest.HttpServerRequest)
    const body = Stream.unwrap(
      Effect.gen(function* () {
        // Subscribe before reading: a change made meanwhile arrives after the snapshot, never lost.
        const changes = yield* feed.subscribe
        const scopes = yield* breaker.list
        return Stream.concat(Stream.succeed(snapshotFrame(scopes)), changes)
      })
    ).pipe(Stream.interruptWhen(Effect.raceFirst(shutdown.started, ended)))
    return HttpServerResponse.stream(body, {
      contentType: "text/event-stream",
      headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
    })
  })
}
