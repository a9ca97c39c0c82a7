/**
 * `GET /api/v1/breaker/stream`: the breaker's server-sent events, served from the event bus (topic
 * `breaker`, through this process's shared feed, `event-feed.ts`) in the format execution services and the console already read: on connect one
 * `snapshot` event with every scope, then one event per change named by its type (`transition`,
 * `reset_requested`, `scope_created`) with the change as data, and a keep-alive comment every
 * 15 s. It counts against the setting `events.max_streams` like every stream. It ends when the client goes
 * away, when the process begins to shut down, when its reader falls too far behind (the client
 * reconnects and gets a fresh snapshot), or when its credential no longer grants
 * VIEW_CIRCUIT_BREAKER (checked every 2 s). `GET /api/v1/events/stream?topics=breaker` carries
 * the same changes with ids and resumption.
 */
import { Effect, Schema, Stream } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { AccessControl } from "../../core/auth/access.ts"
import { BreakerChange, BreakerView } from "../../core/contracts/circuit-breaker/model.ts"
import { CircuitBreaker } from "../../core/contracts/circuit-breaker/service.ts"
import { credentialEnds, holdsAll } from "../../core/events/credential-watch.ts"
import { SseStreams } from "../../core/events/sse-streams.ts"
import type { RouteSpec } from "../../core/http/route.ts"
import { Shutdown } from "../../core/shutdown.ts"
import { BreakerEventFeed } from "./event-feed.ts"
import { snapshotFrame } from "./sse.ts"

/** What the events carry, for the OpenAPI description (the body itself is `text/event-stream`). */
const StreamEvents = Schema.Union([Schema.Struct({ scopes: Schema.Array(BreakerView) }), BreakerChange])

export const streamRoute: RouteSpec<CircuitBreaker | BreakerEventFeed | SseStreams | Shutdown | AccessControl> = {
  method: "GET",
  path: "/api/v1/breaker/stream",
  access: "VIEW_CIRCUIT_BREAKER",
  summary:
    "Server-sent events (text/event-stream): a `snapshot` event `{scopes}` on connect, then one event per change named by its `type` (`transition`, `reset_requested`, `scope_created`), and a `: keep-alive` comment every 15 s. The same changes, with ids and resumption, are on `/api/v1/events/stream?topics=breaker`.",
  docs: {
    response: StreamEvents,
    responses: { 503: "The process has as many streams open as `events.max_streams` allows; see `Retry-After`." },
    tags: ["circuit-breaker"]
  },
  handler: Effect.gen(function* () {
    const breaker = yield* CircuitBreaker
    const feed = yield* BreakerEventFeed
    const streams = yield* SseStreams
    const shutdown = yield* Shutdown
    yield* streams.admit
    const request = yield* HttpServerRequest.HttpServerRequest
    const ended = credentialEnds(yield* AccessControl, request, holdsAll(["VIEW_CIRCUIT_BREAKER"]))
    const body = Stream.unwrap(
      Effect.gen(function* () {
        yield* streams.hold
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
