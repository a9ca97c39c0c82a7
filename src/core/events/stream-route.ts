/**
 * `GET /api/v1/events/stream?topics=breaker,settings`: the one live stream of the event bus, as
 * server-sent events. Frames, in order:
 * - first `retry: 3000` and `event: ready` (or `event: reset` when the `Last-Event-ID` cannot be
 *   resumed: reload your state), `data: {"topics":[…]}` naming the topics served; it carries the
 *   stream's cursor as `id:` unless the client is resuming, so a reconnect before any event loses nothing;
 * - the missed events after `Last-Event-ID` (header; the `lastEventId` query parameter when a page
 *   starts the stream with an id it kept), then the live ones: `id: <id>`, `event: <type>`,
 *   `data: {"topic","type","data","at"}` (`at`: milliseconds since the epoch);
 * - a `: keep-alive` comment every 15 s.
 * The route needs VIEW_DASHBOARD; each topic needs its own permission (asking for one the caller
 * lacks is a 403 naming it, audited; an unknown one a 400). The stream ends when the client goes
 * away, when the process begins to shut down, when its reader falls too far behind or the relay
 * lost events (the client reconnects and resumes or resets), and when its credential no longer
 * grants every permission it showed (`credential-watch.ts`). Frames are written as they come.
 */
import { Effect, Schema, Stream } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { Audit } from "../audit/audit.ts"
import { actorOf } from "../audit/entry.ts"
import { AccessControl, CurrentPrincipal, Forbidden, type Principal } from "../auth/access.ts"
import type { Permission } from "../auth/permissions.ts"
import { EventBus, type TopicSpec } from "../contracts/event-bus.ts"
import { BadRequest } from "../errors/generic.ts"
import { decodeQuery } from "../http/decode.ts"
import type { RouteSpec } from "../http/route.ts"
import { Shutdown } from "../shutdown.ts"
import { credentialEnds, holdsAll } from "./credential-watch.ts"
import { eventFrame, KEEP_ALIVE_FRAME, openingFrame } from "./frames.ts"
import { selectTopics } from "./selection.ts"
import { SseStreams } from "./sse-streams.ts"

export const EVENT_STREAM_PATH = "/api/v1/events/stream"
const ROUTE_PERMISSION: Permission = "VIEW_DASHBOARD"

const StreamQuery = Schema.Struct({
  topics: Schema.optional(
    Schema.String.check(Schema.isMaxLength(1024)).annotate({
      description: "Comma-separated topics, e.g. `breaker,settings`; absent or empty: every topic the caller may read."
    })
  ),
  lastEventId: Schema.optional(
    Schema.String.check(Schema.isMaxLength(128)).annotate({
      description: "Resume after this event id; the `Last-Event-ID` header, when sent, wins."
    })
  )
})

/** What the frames' `data:` lines carry, for the OpenAPI description (the body is `text/event-stream`). */
const StreamEvents = Schema.Union([
  Schema.Struct({
    topic: Schema.String,
    type: Schema.String,
    data: Schema.Unknown,
    at: Schema.Number.annotate({ description: "When it was published, in milliseconds since the epoch." })
  }).annotate({ description: "An event (`id:` its id, `event:` its type)." }),
  Schema.Struct({ topics: Schema.Array(Schema.String) }).annotate({
    description: "The first frame, `event: ready` or `event: reset` (reload your state): the topics served."
  })
])

/** The id to resume after: the header an `EventSource` sends on reconnecting, else the query's. */
const resumeId = (header: string | undefined, query: string | undefined): string | undefined => {
  const id = header?.trim() || query?.trim()
  return id === "" ? undefined : id
}

/** Audits the refusal of topics the caller may not read (a failed write is logged), then refuses. */
const refuseTopics = (audit: Audit["Service"], principal: Principal, topics: ReadonlyArray<TopicSpec>) => {
  const names = topics.map((t) => t.name).join(", ")
  const needs = [...new Set(topics.map((t) => t.permission))].join(", ")
  const message =
    topics.length === 1
      ? `the topic ${names} needs the permission ${needs}`
      : `the topics ${names} need the permissions ${needs}`
  return audit
    .record({
      actor: actorOf(principal),
      action: "authz_denied",
      resourceType: "event_topic",
      resourceId: names,
      outcome: "denied",
      reason: message,
      details: { route: `GET ${EVENT_STREAM_PATH}`, topics: topics.map((t) => t.name), permissions: needs }
    })
    .pipe(
      Effect.catchTag("AuditWriteFailed", (e) => Effect.logError("a refused event stream could not be audited", e)),
      Effect.andThen(Effect.fail(new Forbidden({ message, permission: topics[0]!.permission })))
    )
}

export const eventStreamRoute: RouteSpec<EventBus | SseStreams | AccessControl | Audit | Shutdown> = {
  method: "GET",
  path: EVENT_STREAM_PATH,
  access: ROUTE_PERMISSION,
  summary:
    "Server-sent events (text/event-stream) of the event bus: `ready` (or `reset`: reload) first, then each event as `id:`, `event: <type>`, `data: {topic, type, data, at}`, resuming after `Last-Event-ID`; a `: keep-alive` comment every 15 s. Each topic needs its own permission.",
  docs: {
    query: StreamQuery,
    response: StreamEvents,
    responses: {
      403: "A requested topic needs a permission the caller lacks; the message names the topic.",
      503: "The process already serves as many streams as the setting `events.max_streams` allows (`too_many_streams`); see `Retry-After`."
    },
    tags: ["events"]
  },
  handler: Effect.gen(function* () {
    const query = yield* decodeQuery(StreamQuery)
    const bus = yield* EventBus
    const streams = yield* SseStreams
    const principal = yield* CurrentPrincipal
    const request = yield* HttpServerRequest.HttpServerRequest
    const selection = selectTopics(query.topics, yield* bus.topics, (p) => principal.permissions.has(p))
    if (selection._tag === "Unknown") {
      const message = `unknown topic: ${selection.names.join(", ")}`
      return yield* new BadRequest({ message, issues: [{ path: "topics", message }] })
    }
    if (selection._tag === "Forbidden") return yield* refuseTopics(yield* Audit, principal, selection.topics)
    yield* streams.admit

    const names = selection.topics.map((t) => t.name)
    const lastEventId = resumeId(request.headers["last-event-id"], query.lastEventId)
    const shutdown = yield* Shutdown
    const shown = holdsAll([ROUTE_PERMISSION, ...selection.topics.map((t) => t.permission)])
    const ended = credentialEnds(yield* AccessControl, request, shown)
    const body = Stream.unwrap(
      Effect.gen(function* () {
        // Counted and subscribed while the body streams: released when it ends, whatever ends it.
        yield* streams.hold
        const subscription = yield* bus.subscribe(names, lastEventId)
        const ticks = yield* streams.keepAlive
        const reset = subscription.missed === "reset"
        const opening = openingFrame(
          reset ? "reset" : "ready",
          names,
          reset || lastEventId === undefined ? subscription.cursor : undefined
        )
        const missed = subscription.missed === "reset" ? [] : subscription.missed.map(eventFrame)
        const live = Stream.merge(
          Stream.map(subscription.live, eventFrame),
          Stream.map(ticks, () => KEEP_ALIVE_FRAME),
          { haltStrategy: "left" }
        )
        return Stream.concat(Stream.fromIterable([opening, ...missed]), live)
      })
    ).pipe(Stream.interruptWhen(Effect.raceFirst(shutdown.started, ended)))
    return HttpServerResponse.stream(body, {
      contentType: "text/event-stream",
      headers: { "cache-control": "no-cache", "x-accel-buffering": "no" }
    })
  })
}
