/**
 * Everything core provides to modules, as one layer that needs only the configuration. Core's
 * own services only: a capability's services come from its module (`provides`).
 */
import { Layer } from "effect"
import { Audit } from "./audit/audit.ts"
import { ApiKeyAuthenticatorLive } from "./auth/api-keys.ts"
import { ApiRateLimiter } from "./auth/api-rate-limit.ts"
import { IdentityLive } from "./auth/identity.ts"
import { Permissions } from "./auth/permissions.ts"
import { DatabaseLive } from "./db/client.ts"
import { ErrorAnswers } from "./errors/declared-answers.ts"
import { EventsLive } from "./events/index.ts"
import { ConsoleParts } from "./http/console-parts.ts"
import { Idempotency } from "./http/idempotency.ts"
import { RouteTable } from "./http/route.ts"
import { Navigation } from "./navigation.ts"
import { Metrics } from "./observability/metrics.ts"
import { Readiness } from "./readiness.ts"
import { RedisConnection } from "./redis/client.ts"
import { SharedState } from "./redis/shared-state.ts"
import { Retention } from "./retention/retention.ts"
import { Settings } from "./settings/service.ts"
import { Shutdown } from "./shutdown.ts"
import { Supervisor } from "./supervisor.ts"

export const CoreLive = Layer.mergeAll(IdentityLive, Retention.layer, Idempotency.layer).pipe(
  // Runtime settings: what retention and idempotency read their periods from.
  Layer.provideMerge(Settings.layer),
  Layer.provideMerge(EventsLive),
  Layer.provideMerge(Layer.mergeAll(ApiKeyAuthenticatorLive, ApiRateLimiter.layer)),
  Layer.provideMerge(Audit.layer),
  Layer.provideMerge(
    Layer.mergeAll(
      Supervisor.layer,
      Navigation.layer,
      ConsoleParts.layer,
      Shutdown.layer,
      DatabaseLive,
      SharedState.layer.pipe(Layer.provideMerge(RedisConnection.layer))
    )
  ),
  Layer.provideMerge(Layer.mergeAll(Metrics.layer, Readiness.layer, RouteTable.layer, ErrorAnswers.layer)),
  Layer.provideMerge(Permissions.layer)
)
