/**
 * The outbox contract: what a capability that must notify someone (alert events, a drill) calls
 * inside its own database transaction, so the change and its deliveries commit together or not at
 * all. The delivery module provides it; its dispatcher fibers send what is due through the
 * channels (`ChannelRegistry`).
 */
import { Context, type Effect, Schema } from "effect"
import type { SqlClient, SqlError } from "effect/sql"
import type { ChannelMessage } from "./channel.ts"

/** One delivery to enqueue. */
export interface OutboxEntry {
  /**
   * Unique per intended delivery (e.g. `alert:<event id>:<recipient id>:firing`): enqueueing the
   * same key twice — a retried request — creates one delivery.
   */
  readonly dedupKey: string
  /** A registered channel's id. */
  readonly channel: string
  /** The recipient, in the channel's own recipient format (decoded with its schema). */
  readonly recipient: unknown
  readonly message: Omit<ChannelMessage, "deliveryId">
  /** Not sent before this time (milliseconds since the epoch); now when left out. */
  readonly notBefore?: number
}

export interface EnqueueResult {
  /** The delivery ids, in the order of the entries (an existing one for a repeated key). */
  readonly ids: ReadonlyArray<string>
  /** How many entries were already enqueued (same dedup key). */
  readonly duplicates: number
}

/** 400-like: an entry names an unknown channel or a recipient its channel does not accept. */
export class OutboxRefused extends Schema.TaggedError<OutboxRefused>()("OutboxRefused", {
  message: Schema.String,
  /** Index of the refused entry. */
  entry: Schema.Number
}) {}

export interface OutboxShape {
  /**
   * Inserts the deliveries in the caller's current transaction (run it inside
   * `sql.withTransaction`): they exist exactly when the caller's change commits.
   */
  readonly enqueueInTransaction: (
    entries: ReadonlyArray<OutboxEntry>
  ) => Effect.Effect<EnqueueResult, OutboxRefused | SqlError.SqlError, SqlClient.SqlClient>
}

export class Outbox extends Context.Service<Outbox, OutboxShape>()("breakwater/Outbox") {
  /** The module that provides it (for the message when none is installed). */
  static readonly providedBy = "delivery"
}
