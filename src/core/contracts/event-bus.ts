/**
 * The event bus contract: modules publish typed events on named topics; the live stream
 * (`GET /api/v1/events/stream`) serves them to clients, filtered by the caller's permissions, with
 * ids so a reconnecting client resumes where it left off. Core provides it (`core/events/`).
 */
import { Context, type Effect, Schema, type Scope, type Stream } from "effect"
import type { Permission } from "../auth/permissions.ts"

/** A topic's name: a lower-case letter, then at most 31 lower-case letters, digits, `_` or `-`. */
export const TopicName = Schema.String.check(
  Schema.isPattern(/^[a-z][a-z0-9_-]{0,31}$/, {
    message: "a topic is a lower-case letter, then at most 31 lower-case letters, digits, _ or -"
  })
)

/**
 * An event's type (its SSE `event:` name): a lower-case letter, then at most 63 lower-case
 * letters, digits, `_`, `.` or `-`. Never one of {@link RESERVED_EVENT_TYPES}.
 */
export const EventType = Schema.String.check(
  Schema.isPattern(/^[a-z][a-z0-9_.-]{0,63}$/, {
    message: "an event type is a lower-case letter, then at most 63 lower-case letters, digits, _, . or -"
  })
)

/** The stream's own events (its first frame says `ready` or `reset`): no module may publish them. */
export const RESERVED_EVENT_TYPES: ReadonlyArray<string> = ["ready", "reset"]

/** A topic and the permission a reader needs to see its events. Modules declare theirs. */
export interface TopicSpec {
  /** Lower-case name ({@link TopicName}), e.g. `breaker`, `health`, `alerts`, `deliveries`, `audit`, `settings`. */
  readonly name: string
  readonly permission: Permission
  readonly description: string
}

/** One event as readers see it. */
export interface BusEvent {
  /**
   * Opaque; a client sends the last one it saw back as `Last-Event-ID`. Given by the replica that
   * delivers the event (a relayed event gets the receiving replica's id), so an id resumes on the
   * replica that gave it; elsewhere (or after that replica restarted) the answer is `"reset"`.
   */
  readonly id: string
  readonly topic: string
  /** The event name on the wire (SSE `event:`), e.g. `transition`; an {@link EventType}. */
  readonly type: string
  /** JSON-encodable payload (as `JSON.stringify` encodes it when published). */
  readonly data: unknown
  /** Milliseconds since the epoch, when it was published (on the replica that published it). */
  readonly at: number
}

export interface PublishOptions {
  /**
   * Whether the bus relays the event to other replicas (through Redis, when configured); default
   * true. False for a module whose own mechanism already tells every replica (each publishes its
   * local copy).
   */
  readonly replicate?: boolean
}

/** What a subscriber gets: events it missed (after `Last-Event-ID`), then live ones. */
export interface Subscription {
  /**
   * `"reset"` when the given id is older than the replay buffer, unknown, or from before a gap
   * (events relayed from another replica were lost): the client must reload its state; otherwise
   * the buffered events after it on the subscribed topics, oldest first (empty for no id).
   */
  readonly missed: ReadonlyArray<BusEvent> | "reset"
  /**
   * The id of the newest event (of any topic) at the moment of subscribing, or a start marker: a
   * client that has seen no event yet resumes from it, so what is published meanwhile is not lost.
   */
  readonly cursor: string
  /**
   * Every event on the subscribed topics published from the moment of subscribing, in order. It
   * ends, rather than skipping events, when the reader falls too far behind, and when a gap in
   * the relay is found (the client then reconnects and resumes, or is told to reset).
   */
  readonly live: Stream.Stream<BusEvent>
}

export interface EventBusShape {
  /**
   * Declares topics (at start, by the module wiring). A malformed name, a permission no module
   * declares, or a topic another module (or this one) already declared fails the start, naming both.
   */
  readonly declare: (module: string, topics: ReadonlyArray<TopicSpec>) => Effect.Effect<void, TopicDeclarationError>
  readonly topics: Effect.Effect<ReadonlyArray<TopicSpec & { readonly module: string }>>
  /**
   * Publishes on a declared topic; never blocks on, nor fails for, Redis. An undeclared topic, a
   * malformed or reserved type, or data `JSON.stringify` cannot encode is a defect (a bug in the module).
   */
  readonly publish: (topic: string, type: string, data: unknown, options?: PublishOptions) => Effect.Effect<BusEvent>
  /** Subscribes to some topics (unknown ones never have events), resuming after `lastEventId` when given. */
  readonly subscribe: (
    topics: ReadonlyArray<string>,
    lastEventId?: string
  ) => Effect.Effect<Subscription, never, Scope.Scope>
}

export class EventBus extends Context.Service<EventBus, EventBusShape>()("breakwater/EventBus") {}

export class TopicDeclarationError extends Schema.TaggedError<TopicDeclarationError>()("TopicDeclarationError", {
  message: Schema.String
}) {}
