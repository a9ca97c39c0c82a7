/**
 * Server-sent-events framing for the breaker stream: pure functions from data to the bytes sent on
 * the wire. An event is `event: <name>` and one `data:` line of JSON (JSON never contains a raw
 * newline), ended by a blank line; a comment line keeps idle connections and proxies open.
 */
import type { BreakerView } from "../../core/contracts/circuit-breaker/model.ts"
import type { BusEvent } from "../../core/contracts/event-bus.ts"

const encoder = new TextEncoder()

/** How long a disconnected `EventSource` waits before it reconnects, in milliseconds. */
export const RECONNECT_MILLIS = 3000

/** One event with a JSON payload. */
export const sseEvent = (event: string, data: unknown): Uint8Array =>
  encoder.encode(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)

/** The first event of every connection: the state of every scope as this process reads it now. */
export const snapshotFrame = (scopes: ReadonlyArray<BreakerView>): Uint8Array =>
  encoder.encode(`retry: ${RECONNECT_MILLIS}\nevent: snapshot\ndata: ${JSON.stringify({ scopes })}\n\n`)

const frames = new WeakMap<BusEvent, Uint8Array>()

/**
 * A change from the bus, named by its type (`transition`, `reset_requested`, `scope_created`),
 * with the change as data. Encoded once per event, however many streams show it.
 */
export const changeFrame = (event: BusEvent): Uint8Array => {
  const cached = frames.get(event)
  if (cached !== undefined) return cached
  const bytes = sseEvent(event.type, event.data)
  frames.set(event, bytes)
  return bytes
}

/** A comment line: ignored by clients, it keeps the connection from looking idle. */
export const KEEP_ALIVE_FRAME: Uint8Array = encoder.encode(": keep-alive\n\n")
