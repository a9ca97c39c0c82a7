/**
 * The settings service on real PostgreSQL without the HTTP server, for tests: its layer with the
 * services it needs, and a small in-memory event bus that keeps the `EventBus` contract. Two
 * service instances given the same hub behave like two replicas whose bus relays events.
 */
import { Effect, Layer, PubSub, Stream } from "effect"
import { Audit } from "../../src/core/audit/audit.ts"
import type { Actor } from "../../src/core/audit/entry.ts"
import { Permissions } from "../../src/core/auth/permissions.ts"
import { AppConfig } from "../../src/core/config.ts"
import { type BusEvent, EventBus, type EventBusShape, type TopicSpec } from "../../src/core/contracts/event-bus.ts"
import { DatabaseLive } from "../../src/core/db/client.ts"
import { loggingFromConfig } from "../../src/core/observability/logging.ts"
import { Metrics } from "../../src/core/observability/metrics.ts"
import { Settings, settingsTopic } from "../../src/core/settings/service.ts"
import { Supervisor } from "../../src/core/supervisor.ts"

/** The events every bus on one hub sees: what Redis relays between replicas. */
export const makeHub = () => Effect.runSync(PubSub.unbounded<BusEvent>())

/** A bus on `hub`: publishes to it (as JSON, like the real relay), subscribers read it from subscribing on. */
export const testEventBus = (hub: PubSub.PubSub<BusEvent>): EventBusShape => {
  const declared: Array<TopicSpec & { readonly module: string }> = []
  let sequence = 0
  return {
    declare: (module, topics) => Effect.sync(() => void declared.push(...topics.map((t) => ({ ...t, module })))),
    topics: Effect.sync(() => [...declared]),
    publish: (topic, type, data) =>
      Effect.gen(function* () {
        if (!declared.some((t) => t.name === topic)) return yield* Effect.die(new Error(`undeclared topic ${topic}`))
        const event: BusEvent = { id: String(++sequence), topic, type, data: JSON.parse(JSON.stringify(data)), at: 0 }
        yield* PubSub.publish(hub, event)
        return event
      }),
    subscribe: (topics) =>
      Effect.map(PubSub.subscribe(hub), (subscription) => ({
        missed: [],
        cursor: String(sequence),
        live: Stream.fromSubscription(subscription).pipe(Stream.filter((event) => topics.includes(event.topic)))
      }))
  }
}

/** The bus of one replica: the settings topic declared, as the module wiring does. */
const busLayer = (hub: PubSub.PubSub<BusEvent>) =>
  Layer.effect(
    EventBus,
    Effect.gen(function* () {
      const bus = testEventBus(hub)
      yield* bus.declare("core", [settingsTopic])
      return EventBus.of(bus)
    })
  )

/** Settings over the test database (`env`: DATABASE_URL, …) and a bus on `hub`. */
export const settingsLayer = (env: Record<string, string>, hub: PubSub.PubSub<BusEvent>) =>
  Settings.layer.pipe(
    Layer.provideMerge(busLayer(hub)),
    Layer.provideMerge(Audit.layer),
    Layer.provideMerge(Layer.mergeAll(Supervisor.layer, DatabaseLive)),
    Layer.provideMerge(Layer.mergeAll(Metrics.layer, Permissions.layer)),
    Layer.provide(loggingFromConfig),
    Layer.provideMerge(AppConfig.layerFrom({ LOG_LEVEL: "error", ...env }))
  )

export const operator: Actor = { type: "user", id: "00000000-0000-4000-8000-0000000000c1", name: "olga@test.local" }
