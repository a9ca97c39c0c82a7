/**
 * `GET /api/v1/breaker/stream`: server-sent events for execution services and the console. On
 * connect one `snapshot` event with every scope, then one event per change (`transition`,
 * `reset_requested`, `scope_created`) from the shared feed, and a keep-alive comment every 15 s.
 * The stream ends when the client goes away (the request fiber is interrupted, the subscription
 * released) or when the process begins to shut down (so the drain does not wait for it). Frames
 * are written as they come: no buffering, no compression.
 */
import { Effect, Schema, Stream } from "effect"
import { HttpServerResponse } from "effect/http"
import { BreakerChange, BreakerView } from "../../core/breaker/model.ts"
import { CircuitBreaker } from "../../core/breaker/service.ts"
import type { RouteSpec } from "../../core/http/route.ts"
import { Shutdown } from "../../core/shutdown.ts"
import { BreakerEventFeed } from "./event-feed.ts"
import { snapshotFrame } from "./sse.ts"

/** What the events carry, for the OpenAPI description (the body itself is `text/event-stream`). */
const StreamEvents = Schema.Union([Schema.Struct({ scopes: Schema.Array(BreakerView) }), BreakerChange])

export const streamRoute: RouteSpec<CircuitBreaker | BreakerEventFeed | Shutdown> = {
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
    const body = Stream.unwrap(
      Effect.gen(function* () {
        // Subscribe before reading: a change made meanwhile arrives after the snapshot, never lost.
        const changes = yield* feed.subscribe
        const scopes = yield* breaker.list
        return Stream.concat(Stream.succeed(snapshotFrame(scopes)), changes)
      })
    ).pipe(Stream.interruptWhen(shutdown.started))
    return HttpServerResponse.stream(body, {
      contentType: "text/event-stream",
      headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
    })
  })
}
