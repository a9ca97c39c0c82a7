/**
 * Core's events: the bus (`EventBus`, with its relay face `EventRelay`) and what server-sent-event
 * answers share (`SseStreams`), as one layer for `CoreLive`; the stream route and the two fibers
 * (relay, keep-alive) for core's module.
 */
import { Layer } from "effect"
import type { EventBus } from "../contracts/event-bus.ts"
import { EventBusLive, type EventRelay } from "./bus.ts"
import { eventRelayFiber } from "./relay.ts"
import { keepAliveFiber, SseStreams } from "./sse-streams.ts"
import { eventStreamRoute } from "./stream-route.ts"

/** The services {@link EventsLive} adds to core. */
export type EventServices = EventBus | EventRelay | SseStreams

export const EventsLive = Layer.merge(EventBusLive, SseStreams.layer)

export const eventRoutes = [eventStreamRoute] as const
export const eventFibers = [eventRelayFiber, keepAliveFiber] as const
