/**
 * The circuit breaker module: its JSON API (with server-sent events), its console page and the
 * navigation entry. The breaker service itself lives in core (`CircuitBreaker`), because alert
 * rules and the CLI use it too; this module adds only the per-process event feed that shares
 * each change's encoded frame among all SSE clients.
 */
import { defineModule } from "../../core/module.ts"
import { apiRoutes } from "./api-routes.ts"
import { consoleRoutes } from "./console-routes.ts"
import { BreakerEventFeed, eventFeedFiber } from "./event-feed.ts"
import { streamRoute } from "./stream-route.ts"

export const circuitBreakerModule = defineModule({
  name: "circuit-breaker",
  layer: BreakerEventFeed.layer,
  fibers: [eventFeedFiber],
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
  ]
})
