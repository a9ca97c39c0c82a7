/**
 * What every console page's layout shows of the global breaker — the navigation's badge, the
 * favicon and the title — and how its script keeps them live: the event stream it follows and the
 * staleness limit (the setting `console.staleness_seconds`) after which a page that has lost the
 * stream says `UNKNOWN — treat as halted` everywhere. Only for a principal allowed to view the
 * breaker, with a module providing the `CircuitBreaker` contract installed and its feature on;
 * the reading is the contract's synchronous `readNow` (no store is asked for a page).
 */
import { Effect, Option, Schema } from "effect"
import type { LayoutLive } from "../../../views/layout.ts"
import type { Principal } from "../auth/access.ts"
import { AppConfig } from "../config.ts"
import { GLOBAL_SCOPE } from "../contracts/circuit-breaker/model.ts"
import { CircuitBreaker } from "../contracts/circuit-breaker/service.ts"
import { Settings } from "../settings/service.ts"
import { defineSetting } from "../settings/spec.ts"

/** Seconds a console page may be without its live connection before its breaker displays say UNKNOWN. */
export const consoleStalenessSeconds = defineSetting({
  key: "console.staleness_seconds",
  schema: Schema.Int.check(Schema.isBetween({ minimum: 1, maximum: 300 })),
  default: 5,
  description:
    "How long a console page may lose its live connection before every breaker display on it (banner, dashboard, navigation badge, favicon, title) says UNKNOWN — treat as halted, until the connection is back and the true state shown again.",
  permission: "MANAGE_SYSTEM_CONFIG",
  unit: "seconds"
})

/** The permission the circuit-breaker module declares for reading the breaker. */
const VIEW_BREAKER = "VIEW_CIRCUIT_BREAKER"
/** The feature switch of the breaker's console (`FEATURE_CIRCUIT_BREAKER`). */
const BREAKER_FEATURE = "CIRCUIT_BREAKER"

/**
 * The one stream a page follows: the event bus's `breaker` topic, with ids and `Last-Event-ID`
 * resumption (`core/events/stream-route.ts`); for a caller without VIEW_DASHBOARD (which that
 * route needs), the breaker's own stream, which starts every connection with a snapshot.
 */
export const liveStreamFor = (principal: Principal): string =>
  principal.permissions.has("VIEW_DASHBOARD") ? "/api/v1/events/stream?topics=breaker" : "/api/v1/breaker/stream"

/** The staleness limit in effect (the default when the settings service is not there). */
export const stalenessSeconds: Effect.Effect<number> = Effect.flatMap(Effect.serviceOption(Settings), (settings) =>
  Option.isSome(settings)
    ? settings.value.get(consoleStalenessSeconds)
    : Effect.succeed(consoleStalenessSeconds.default)
)

/** The layout's live breaker, or `undefined` when this principal's pages show none. */
export const layoutLive = (principal: Principal | undefined): Effect.Effect<LayoutLive | undefined> =>
  Effect.gen(function* () {
    if (principal === undefined || !principal.permissions.has(VIEW_BREAKER)) return undefined
    const breaker = yield* Effect.serviceOption(CircuitBreaker)
    if (Option.isNone(breaker)) return undefined
    const config = yield* Effect.serviceOption(AppConfig)
    if (Option.isSome(config) && !AppConfig.featureEnabled(config.value, BREAKER_FEATURE)) return undefined
    return {
      breaker: breaker.value.readNow(GLOBAL_SCOPE),
      stream: liveStreamFor(principal),
      stalenessSeconds: yield* stalenessSeconds
    }
  })
