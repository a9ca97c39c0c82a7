/**
 * The event bus contract: modules publish typed events on named topics; the live stream
 * (`GET /api/v1/events/stream`) serves them to clients, filtered by the caller's permissions, with
 * ids so a reconnecting client resumes where it left off. Core provides it (`core/events/`).
 */
import { Context, type Effect, Schema, type Scope, type Stream } from "effect"
import type { Permission } from "../auth/permissions.ts"

/** A topic and the permission a reader needs to see its events. Modules declare theirs. */
export interface TopicSpec {
  /** Lower-case name, e.g. `breaker`, `health`, `alerts`, `deliveries`, `audit`, `settings`. */
  readonly name: string
  readonly permission: Permission
  readonly description: string
}

/** One event as readers see it. */
export interface BusEvent {
  /** Opaque, increasing within one bus; a client sends the last one back as `Last-Event-ID`. */
  readonly id: string
  readonly topic: string
  /** The event name on the wire (SSE `event:`), e.g. `transition`. */
  readonly type: string
  /** JSON-encodable payload. */
  readonly data: unknown
  /** Milliseconds since the epoch, when it was published. */
  readonly at: number
}

export interface PublishOptions {
  /**
   * Whether the bus relays the event to other replicas (through Redis, when configured). False for
   * a module whose own mechanism already tells every replica (each publishes its local copy).
   */
  readonly replicate?: boolean
}

/** What a subscriber gets: events it missed (after `Last-Event-ID`), then live ones. */
export interface Subscription {
  /**
   * `"reset"` when the given id is older than the replay buffer (or unknown): the client must
   * reload its state; otherwise the buffered events after it, oldest first (empty for no id).
   */
  readonly missed: ReadonlyArray<BusEvent> | "reset"
  /** Every event published from the moment of subscribing, in order; ends if the reader falls too far behind. */
  readonly live: Stream.Stream<BusEvent>
}

export interface EventBusShape {
  /** Declares topics (at start, by the module wiring); a duplicate or malformed topic fails the start. */
  readonly declare: (module: string, topics: ReadonlyArray<TopicSpec>) => Effect.Effect<void, TopicDeclarationError>
  readonly topics: Effect.Effect<ReadonlyArray<TopicSpec & { readonly module: string }>>
  /** Publishes on a declared topic; an undeclared topic is a defect (a bug in the module). */
  readonly publish: (topic: string, type: string, data: unknown, options?: PublishOptions) => Effect.Effect<BusEvent>
  /** Subscribes to some topics, resuming after `lastEventId` when given. */
  readonly subscribe: (
    topics: ReadonlyArray<string>,
    lastEventId?: string
  ) => Effect.Effect<Subscription, never, Scope.Scope>
}

export class EventBus extends Context.Service<EventBus, EventBusShape>()("breakwater/EventBus") {}

export class TopicDeclarationError extends Schema.TaggedError<TopicDeclarationError>()("TopicDeclarationError", {
  message: Schema.String
}) {}
