/**
 * Server-sent-events framing of the event stream: pure functions from events to the bytes on the
 * wire. An event's frame is encoded once, when it is published, and the same bytes go to every
 * connection that shows it (a WeakMap keyed by the event, so a forgotten event takes its bytes
 * along). JSON never contains a raw newline, and ids and types are checked patterns, so one
 * `data:` line is always one line.
 */
import type { BusEvent } from "../contracts/event-bus.ts"

const encoder = new TextEncoder()

/** How long a disconnected `EventSource` waits before it reconnects, in milliseconds. */
export const RECONNECT_MILLIS = 3000

/** What an event's `data:` line holds. */
export interface EventPayload {
  readonly topic: string
  readonly type: string
  readonly data: unknown
  readonly at: number
}

const frames = new WeakMap<BusEvent, Uint8Array>()

/**
 * `id: <id>`, `event: <type>`, `data: {"topic","type","data","at"}`. Throws when `JSON.stringify`
 * cannot encode the data (the bus calls this when publishing, to refuse such an event).
 */
export const eventFrame = (event: BusEvent): Uint8Array => {
  const cached = frames.get(event)
  if (cached !== undefined) return cached
  const payload: EventPayload = { topic: event.topic, type: event.type, data: event.data, at: event.at }
  const json = JSON.stringify(payload)
  const bytes = encoder.encode(`id: ${event.id}\nevent: ${event.type}\ndata: ${json}\n\n`)
  frames.set(event, bytes)
  return bytes
}

/**
 * The first frame of every connection: the reconnection delay, then `ready` (the stream is live,
 * `data` lists its topics) or `reset` (the given `Last-Event-ID` cannot be resumed: reload the
 * state, then follow). With `id`, the frame also moves the client's `Last-Event-ID` to the cursor,
 * so a client that reconnects before any event arrives loses nothing.
 */
export const openingFrame = (kind: "ready" | "reset", topics: ReadonlyArray<string>, id: string | undefined) =>
  encoder.encode(
    `retry: ${RECONNECT_MILLIS}\n${id === undefined ? "" : `id: ${id}\n`}event: ${kind}\ndata: ${JSON.stringify({ topics })}\n\n`
  )

/** A comment line: ignored by clients, it keeps the connection from looking idle to proxies. */
export const KEEP_ALIVE_FRAME: Uint8Array = encoder.encode(": keep-alive\n\n")
