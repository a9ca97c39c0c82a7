/**
 * The event bus of one process (contract: `core/contracts/event-bus.ts`). Publishing is one
 * synchronous step: the event gets its id, joins the replay buffer, and is offered to every live
 * subscriber of its topic, so no subscriber ever sees events out of order or a buffered event
 * twice. Each subscriber has its own bounded queue: one that falls {@link LIVE_CAPACITY} events
 * behind is cut off (its stream ends after what it holds; the client resumes from the buffer)
 * instead of holding up the publisher and every other reader.
 *
 * Across replicas (Redis configured): an event published with `replicate` (the default) is also
 * queued for the relay fiber (`relay.ts`), which sends it on the `events` channel; every other
 * replica delivers it as its own, under its own id. Ids are per process (`replay-buffer.ts`): a
 * client resumes on the replica that served it; a reconnect that lands on another replica, or on a
 * restarted one, gets a `reset` and reloads its state (behind a load balancer, sticky sessions
 * keep resumption working). Making ids global would need a Redis round trip per event, and Redis
 * must never hold up a publish: here it only ever costs a queue offer. A message another replica
 * relayed that never arrived (a gap in its sequence) starts a new epoch: every live stream ends and
 * every client reconnects into a `reset`, because none of them saw that event.
 */
import { randomBytes } from "node:crypto"
import { type Cause, Clock, Context, Effect, Exit, Layer, Queue, Schema, Stream } from "effect"
import { Permissions } from "../auth/permissions.ts"
import { AppConfig } from "../config.ts"
import {
  type BusEvent,
  EventBus,
  EventType,
  type PublishOptions,
  RESERVED_EVENT_TYPES,
  TopicDeclarationError
} from "../contracts/event-bus.ts"
import { Metrics } from "../observability/metrics.ts"
import { SharedState } from "../redis/shared-state.ts"
import { eventFrame } from "./frames.ts"
import { decodeRelayMessage, encodeRelayMessage } from "./relay-message.ts"
import { makeReplayBuffer } from "./replay-buffer.ts"
import { makeTopicRegistry } from "./topics.ts"

/** Events a live subscriber may fall behind before it is cut off. */
export const LIVE_CAPACITY = 1024
/** Relay messages waiting for Redis at most; beyond, they are dropped (and the other replicas reset). */
export const OUTBOUND_CAPACITY = 10_000
/** Origins whose sequence is followed at most (restarted replicas come with new ones). */
const MAX_ORIGINS = 1000

/** Why a relay message did not make it: counted in `breakwater_event_relay_problems_total`. */
export type RelayProblem = "send_failed" | "queue_full" | "malformed" | "gap"

export interface EventRelayShape {
  /** Whether events travel between replicas: Redis is configured. */
  readonly enabled: boolean
  /** Encoded messages for the other replicas, oldest first; the relay fiber sends them. */
  readonly outbound: Queue.Dequeue<string>
  /** Delivers a message from the channel: decoded, this process's own skipped, a gap resets. */
  readonly receive: (message: string) => Effect.Effect<void>
  readonly count: (problem: RelayProblem) => Effect.Effect<void>
}

/** The bus's side facing the relay fiber; provided with {@link EventBus} by {@link EventBusLive}. */
export class EventRelay extends Context.Service<EventRelay, EventRelayShape>()("breakwater/EventRelay") {}

const randomHex = () => randomBytes(6).toString("hex")
const isEventTypeName = Schema.is(EventType)
const isEventType = (type: string) => isEventTypeName(type) && !RESERVED_EVENT_TYPES.includes(type)

interface Subscriber {
  readonly topics: ReadonlySet<string>
  readonly queue: Queue.Queue<BusEvent, Cause.Done>
}

export const EventBusLive: Layer.Layer<EventBus | EventRelay, never, AppConfig | Metrics | SharedState | Permissions> =
  Layer.effectContext(
    Effect.gen(function* () {
      const config = yield* AppConfig
      const metrics = yield* Metrics
      const shared = yield* SharedState
      const permissions = yield* Permissions
      const published = metrics.counter({
        name: "breakwater_events_published_total",
        help: "Events delivered by this process's event bus, by topic and origin (local: published here; relayed: from another replica).",
        labelNames: ["topic", "origin"]
      })
      const problems = metrics.counter({
        name: "breakwater_event_relay_problems_total",
        help: "Relay messages between replicas that failed: send_failed (Redis refused), queue_full, malformed, gap (a message never arrived).",
        labelNames: ["problem"]
      })
      const cut = metrics.counter({
        name: "breakwater_event_subscribers_cut_total",
        help: "Live event-bus subscribers cut off because they fell too far behind."
      })
      for (const problem of ["send_failed", "queue_full", "malformed", "gap"]) problems.inc({ problem }, 0)

      const topics = makeTopicRegistry(permissions.isPermission)
      const buffer = makeReplayBuffer(config.eventReplayBuffer, randomHex)
      const subscribers = new Set<Subscriber>()
      const origin = randomHex()
      const enabled = shared.mode === "redis"
      const outbound = yield* Queue.dropping<string>(OUTBOUND_CAPACITY)
      let relayed = 0
      const lastSeen = new Map<string, number>()

      /** Ends every live stream (after what it holds): they reconnect into the buffer, or a reset. */
      const endAll = () => {
        for (const subscriber of subscribers) Queue.endUnsafe(subscriber.queue)
        subscribers.clear()
      }

      /**
       * Gives the event its id and encodes its frame (throws when JSON cannot carry the data, before
       * anything is kept), then buffers it and fans it out: one synchronous step.
       */
      const deliver = (fields: Omit<BusEvent, "id">, from: "local" | "relayed"): BusEvent => {
        const event: BusEvent = { id: buffer.nextId(), ...fields }
        // Encoded once here, the same bytes go to every reader.
        eventFrame(event)
        buffer.append(event)
        published.inc({ topic: event.topic, origin: from })
        for (const subscriber of subscribers) {
          if (!subscriber.topics.has(event.topic)) continue
          if (!Queue.offerUnsafe(subscriber.queue, event)) {
            Queue.endUnsafe(subscriber.queue)
            subscribers.delete(subscriber)
            cut.inc()
          }
        }
        return event
      }

      const deliverLocal = (fields: Omit<BusEvent, "id">): Effect.Effect<BusEvent> => {
        try {
          return Effect.succeed(deliver(fields, "local"))
        } catch (error) {
          const reason = error instanceof Error ? error.message : String(error)
          return Effect.die(new Error(`event ${fields.topic}/${fields.type} is not JSON-encodable: ${reason}`))
        }
      }

      const publish = Effect.fn("EventBus.publish")(function* (
        topic: string,
        type: string,
        data: unknown,
        options?: PublishOptions
      ) {
        if (topics.get(topic) === undefined) return yield* Effect.die(new Error(`event on undeclared topic ${topic}`))
        if (!isEventType(type))
          return yield* Effect.die(new Error(`event type "${type}" on ${topic} is malformed or reserved`))
        const at = yield* Clock.currentTimeMillis
        const event = yield* deliverLocal({ topic, type, data, at })
        if (enabled && options?.replicate !== false) {
          relayed += 1
          const message = encodeRelayMessage({ origin, seq: relayed, topic, type, data, at })
          // Never waits: a full queue drops the message, and the other replicas see the gap.
          if (!Queue.offerUnsafe(outbound, message)) problems.inc({ problem: "queue_full" })
        }
        return event
      })

      const receive = (message: string) =>
        Effect.suspend(() => {
          const decoded = decodeRelayMessage(message)
          if (Exit.isFailure(decoded)) {
            problems.inc({ problem: "malformed" })
            return Effect.logWarning("a malformed event relay message was dropped").pipe(
              Effect.annotateLogs({ cause: String(decoded.cause) })
            )
          }
          const relay = decoded.value
          if (relay.origin === origin) return Effect.void
          const last = lastSeen.get(relay.origin)
          // Redis delivers one publisher's messages in order: a repeat is stale, a jump is a loss.
          if (last !== undefined && relay.seq <= last) return Effect.void
          if (lastSeen.size >= MAX_ORIGINS && last === undefined) lastSeen.clear()
          lastSeen.set(relay.origin, relay.seq)
          const gap = last !== undefined && relay.seq > last + 1
          if (gap) {
            problems.inc({ problem: "gap" })
            buffer.restart()
            endAll()
          }
          // A topic this version does not know (a rolling upgrade): no reader could ask for it.
          if (topics.get(relay.topic) !== undefined)
            deliver({ topic: relay.topic, type: relay.type, data: relay.data, at: relay.at }, "relayed")
          return gap
            ? Effect.logWarning(
                `events relayed from another replica were lost (${relay.seq - (last ?? 0) - 1}): every event stream of this process starts over`
              )
            : Effect.void
        })

      const subscribe = Effect.fn("EventBus.subscribe")(function* (
        wanted: ReadonlyArray<string>,
        lastEventId?: string
      ) {
        const queue = yield* Queue.dropping<BusEvent, Cause.Done>(LIVE_CAPACITY)
        const subscriber: Subscriber = { topics: new Set(wanted), queue }
        // One synchronous step with publishing: each event is either missed (buffered) or live, never both.
        const snapshot = yield* Effect.acquireRelease(
          Effect.sync(() => {
            subscribers.add(subscriber)
            const found = lastEventId === undefined ? [] : buffer.after(lastEventId)
            return {
              cursor: buffer.cursor(),
              missed: found === "reset" ? ("reset" as const) : found.filter((e) => subscriber.topics.has(e.topic))
            }
          }),
          () =>
            Effect.andThen(
              Effect.sync(() => subscribers.delete(subscriber)),
              Queue.shutdown(queue)
            )
        )
        return { ...snapshot, live: Stream.fromQueue(queue) }
      })

      yield* Effect.addFinalizer(() => Effect.sync(endAll))

      const bus = EventBus.of({
        declare: (module, specs) =>
          Effect.suspend(() => {
            const problem = topics.declare(module, specs)
            return problem === undefined ? Effect.void : Effect.fail(new TopicDeclarationError({ message: problem }))
          }),
        topics: Effect.sync(topics.all),
        publish,
        subscribe
      })
      const relay = EventRelay.of({
        enabled,
        outbound,
        receive,
        count: (problem) => Effect.sync(() => problems.inc({ problem }))
      })
      return Context.make(EventBus, bus).pipe(Context.add(EventRelay, relay))
    })
  )
