/**
 * The relay between replicas: one supervised fiber per process (declared in core's module, never
 * started by a layer) that sends this process's replicated events to the Redis channel and
 * delivers the other replicas' to the local bus. Redis down costs nothing but the relay: a send
 * that fails is counted (`breakwater_event_relay_problems_total{problem="send_failed"}`) and
 * logged once per outage, never retried (the receivers see the gap and reset their clients);
 * subscribing survives reconnects (`SharedState.subscribe`). Without Redis it has nothing to do.
 */
import { Effect, Queue, Stream } from "effect"
import { SharedState, type StoreUnavailable } from "../redis/shared-state.ts"
import type { FiberSpec } from "../supervisor.ts"
import { EventRelay } from "./bus.ts"
import { RELAY_CHANNEL } from "./relay-message.ts"

export const eventRelayFiber: FiberSpec<EventRelay | SharedState> = {
  name: "events.relay",
  replicas: "each",
  run: (heartbeat) =>
    Effect.gen(function* () {
      const relay = yield* EventRelay
      const shared = yield* SharedState
      if (!relay.enabled) return yield* Effect.never
      const inbound = Stream.runForEach(shared.subscribe(RELAY_CHANNEL), (message) =>
        Effect.andThen(relay.receive(message), heartbeat)
      )
      // Logged once when sends start failing and once when they work again, not per event.
      let failing = false
      const failed = (error: StoreUnavailable) => {
        const first = !failing
        failing = true
        const warn = Effect.logWarning(
          "events cannot be relayed to the other replicas; they are delivered here only until Redis answers again"
        ).pipe(Effect.annotateLogs({ cause: error.message }))
        return Effect.andThen(relay.count("send_failed"), first ? warn : Effect.void)
      }
      const sent = () => {
        const recovered = failing
        failing = false
        return recovered
          ? Effect.andThen(Effect.logInfo("events are relayed to the other replicas again"), heartbeat)
          : heartbeat
      }
      const send = (message: string) =>
        shared.publish(RELAY_CHANNEL, message).pipe(Effect.matchEffect({ onFailure: failed, onSuccess: sent }))
      const outbound = Effect.forever(Effect.flatMap(Queue.take(relay.outbound), send))
      yield* Effect.all([inbound, outbound], { concurrency: 2, discard: true })
    })
}
