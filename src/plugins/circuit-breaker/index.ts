/**
 * The circuit breaker module: the breaker service (provided to the other modules through the
 * `CircuitBreaker` contract, which alert rules use to trip it), its fibers (the verifier that
 * keeps every reading confirmed, the listener for other replicas' changes, the publisher that puts
 * each change on the event bus (topic `breaker`), the feed that shares each change's encoded frame
 * among the breaker stream's clients), its settings, its JSON API and stream, its console page, the
 * global state on every page and its panel first on the dashboard, its permissions and its CLI
 * commands.
 */

import { Layer } from "effect"
import { CircuitBreaker } from "../../core/contracts/circuit-breaker/service.ts"
import { defineModule } from "../../core/module.ts"
import { apiRoutes } from "./api-routes.ts"
import { breakerCommand } from "./cli.ts"
import { breakerDashboardPanel, breakerPageStatus } from "./console-parts.ts"
import { consoleRoutes } from "./console-routes.ts"
import { BreakerEventFeed, eventFeedFiber } from "./event-feed.ts"
import { CircuitBreakerLive, listenerFiber, verifierFiber } from "./live.ts"
import { breakerTopic, publisherFiber } from "./publisher.ts"
import { breakerSettings } from "./settings.ts"
import { streamRoute } from "./stream-route.ts"

/** The breaker (provided) and its private services: the listener and the stream feed. */
const services = Layer.merge(CircuitBreakerLive, BreakerEventFeed.layer)

export const circuitBreakerModule = defineModule({
  name: "circuit-breaker",
  provides: [CircuitBreaker],
  layer: services,
  fibers: [verifierFiber, listenerFiber, publisherFiber, eventFeedFiber],
  topics: [breakerTopic],
  settings: breakerSettings,
  permissions: [
    {
      name: "VIEW_CIRCUIT_BREAKER",
      description: "Read the breaker's state, history and stream.",
      roles: ["viewer", "operator"]
    },
    { name: "TRIP_CIRCUIT_BREAKER", description: "Trip (halt) a scope.", roles: ["operator"] },
    {
      name: "RESET_CIRCUIT_BREAKER",
      description: "Reset a tripped scope and approve another operator's reset.",
      roles: ["operator"]
    }
  ],
  // The stream's literal path is matched before `/api/v1/breaker/:scope` (static segments win).
  routes: [streamRoute, ...apiRoutes, ...consoleRoutes],
  navigation: [
    {
      label: "Circuit Breaker",
      path: "/breaker",
      permissions: ["VIEW_CIRCUIT_BREAKER"],
      feature: "CIRCUIT_BREAKER",
      order: 10
    }
  ],
  dashboard: [breakerDashboardPanel],
  pageStatus: breakerPageStatus,
  commands: [breakerCommand]
})
