/**
 * Puts every breaker change on the event bus (topic `breaker`), where the console, execution
 * services and `GET /api/v1/events/stream` read them. Each replica publishes what its breaker
 * takes in — its own changes and those its listener hears from other replicas — so the bus does
 * not relay them again (`replicate: false`).
 */
import { Effect, Stream } from "effect"
import { CircuitBreaker } from "../../core/contracts/circuit-breaker/service.ts"
import { EventBus, type TopicSpec } from "../../core/contracts/event-bus.ts"
import type { FiberSpec } from "../../core/supervisor.ts"

export const BREAKER_TOPIC = "breaker"

export const breakerTopic: TopicSpec = {
  name: BREAKER_TOPIC,
  permission: "VIEW_CIRCUIT_BREAKER",
  description: "Breaker changes: `transition`, `reset_requested`, `scope_created`, each carrying the change."
}

export const publisherFiber: FiberSpec<CircuitBreaker | EventBus> = {
  name: "breaker.publisher",
  replicas: "each",
  run: (heartbeat) =>
    Effect.gen(function* () {
      const breaker = yield* CircuitBreaker
      const bus = yield* EventBus
      yield* Stream.runForEach(breaker.changes, (change) =>
        Effect.andThen(bus.publish(BREAKER_TOPIC, change.type, change, { replicate: false }), heartbeat)
      )
    })
}
