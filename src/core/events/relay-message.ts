/**
 * What one replica tells the others about an event, on the Redis channel `events` (under the key
 * prefix). `origin` names the sending process and `seq` counts the events it relayed, from 1, so a
 * receiver notices a message that never arrived (Redis was down, a queue overflowed) and resets
 * its clients instead of letting them believe they saw everything. Decoded with a schema: Redis
 * is a boundary like any other.
 */
import { Schema } from "effect"
import { EventType, TopicName } from "../contracts/event-bus.ts"

/** The channel, relative to the Redis key prefix. */
export const RELAY_CHANNEL = "events"

export const RelayMessage = Schema.Struct({
  origin: Schema.String.check(Schema.isPattern(/^[0-9a-f]{1,32}$/)),
  seq: Schema.Int.check(Schema.isGreaterThanOrEqualTo(1)),
  topic: TopicName,
  type: EventType,
  // `JSON.stringify` leaves out an undefined payload.
  data: Schema.optionalKey(Schema.Unknown),
  at: Schema.Finite
})
export type RelayMessage = typeof RelayMessage.Type

export const encodeRelayMessage = (message: RelayMessage): string => JSON.stringify(message)

export const decodeRelayMessage = Schema.decodeUnknownExit(Schema.fromJsonString(RelayMessage))
