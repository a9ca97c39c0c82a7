/**
 * The channel contract (ARCHITECTURE.md §3): what a notification channel plugin (email, Slack,
 * SMS, PagerDuty, webhook, …) implements, and the registry the delivery engine sends through. A
 * channel is a small module under `src/plugins/channels/<id>/` that registers itself with the
 * `ChannelRegistry` while the application starts; there is no central list of channels. The
 * registry refuses a malformed or duplicate channel then, as the route table refuses a route.
 */
import { Context, type Effect, type Redacted, Schema } from "effect"

/** What the delivery engine hands a channel: one message to one recipient. */
export interface ChannelMessage {
  /** The delivery id: sent as the receiver's idempotency key, so a retried send is dropped there. */
  readonly deliveryId: string
  readonly title: string
  readonly body: string
  readonly severity: "info" | "warning" | "critical"
  /** Links back to the console (the alert event, the breaker page). */
  readonly links: ReadonlyArray<{ readonly label: string; readonly url: string }>
  /** Structured fields for channels that show them (Slack blocks, PagerDuty custom details). */
  readonly fields: Readonly<Record<string, string>>
}

/** What a channel answers for a message that was accepted. */
export interface ChannelReceipt {
  /** The provider's id for the message (for `update` and for the operator), if it gave one. */
  readonly providerId?: string
  readonly acceptedAt: number
}

/** The provider said try again (5xx, 429, a timeout before anything was sent). */
export class ChannelRetryable extends Schema.TaggedError<ChannelRetryable>()("ChannelRetryable", {
  message: Schema.String,
  /** The provider's `Retry-After`, when it gave one. */
  retryAfterSeconds: Schema.optional(Schema.Number)
}) {}

/** The message may or may not have been delivered (the connection broke after sending). */
export class ChannelUncertain extends Schema.TaggedError<ChannelUncertain>()("ChannelUncertain", {
  message: Schema.String
}) {}

/** Retrying cannot help (4xx other than 429, a recipient the provider refuses): to the poison queue. */
export class ChannelPermanent extends Schema.TaggedError<ChannelPermanent>()("ChannelPermanent", {
  message: Schema.String
}) {}

export type ChannelFailure = ChannelRetryable | ChannelUncertain | ChannelPermanent

/**
 * One channel. `Config` is its configuration (secrets as `Redacted`), `Recipient` whom it sends to
 * (an address, a webhook URL, a routing key); both are decoded with the channel's own schemas.
 */
export interface Channel<Config = unknown, Recipient = unknown> {
  /** Lower-case, e.g. `email`, `slack`, `pagerduty`. */
  readonly id: string
  readonly displayName: string
  readonly configSchema: Schema.Codec<Config, unknown>
  readonly recipientSchema: Schema.Codec<Recipient, unknown>
  readonly send: (
    config: Config,
    recipient: Recipient,
    message: ChannelMessage
  ) => Effect.Effect<ChannelReceipt, ChannelFailure>
  /** Whether the provider itself drops a message it saw before (by our delivery id). */
  readonly deduplicates: boolean
  /** Acknowledges or resolves a message in place (PagerDuty, Slack), when the provider can. */
  readonly update?: (
    config: Config,
    recipient: Recipient,
    receipt: ChannelReceipt,
    change: "acknowledged" | "resolved"
  ) => Effect.Effect<void, ChannelFailure>
  /** The recipient for display, masked (`a***@example.com`, `https://hooks.slack.com/…/***`). */
  readonly describe: (recipient: Recipient) => string
}

/**
 * A registered channel as the delivery engine uses it: the stored configuration and recipient
 * (JSON) go in and are decoded with the channel's own schemas first; a value its schema refuses is
 * a permanent failure, naming the field.
 */
export interface RegisteredChannel {
  readonly module: string
  readonly id: string
  readonly displayName: string
  readonly deduplicates: boolean
  readonly canUpdate: boolean
  readonly send: (
    config: unknown,
    recipient: unknown,
    message: ChannelMessage
  ) => Effect.Effect<ChannelReceipt, ChannelFailure>
  readonly update: (
    config: unknown,
    recipient: unknown,
    receipt: ChannelReceipt,
    change: "acknowledged" | "resolved"
  ) => Effect.Effect<void, ChannelFailure>
  /** The masked recipient, or why it is not valid for this channel. */
  readonly describe: (recipient: unknown) => string
  /** Checks a recipient before it is stored (the console's and the API's validation). */
  readonly validateRecipient: (recipient: unknown) => Effect.Effect<void, ChannelPermanent>
}

/** A secret in a channel's configuration (an API token, an SMTP password). */
export type Secret = Redacted.Redacted<string>

export class ChannelDeclarationError extends Schema.TaggedError<ChannelDeclarationError>()("ChannelDeclarationError", {
  message: Schema.String
}) {}

export interface ChannelRegistryShape {
  /** Registers a channel of `module` (at start); a malformed or duplicate id fails the start. */
  readonly register: <Config, Recipient>(
    module: string,
    channel: Channel<Config, Recipient>
  ) => Effect.Effect<void, ChannelDeclarationError>
  readonly get: (id: string) => Effect.Effect<RegisteredChannel | undefined>
  readonly list: Effect.Effect<ReadonlyArray<RegisteredChannel>>
}

export class ChannelRegistry extends Context.Service<ChannelRegistry, ChannelRegistryShape>()(
  "breakwater/ChannelRegistry"
) {
  /** The module that provides it (for the message when none is installed). */
  static readonly providedBy = "delivery"
}
