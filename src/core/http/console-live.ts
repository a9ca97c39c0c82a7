/**
 * How long a console page may be without its live connection (the setting
 * `console.staleness_seconds`) before every live display on it — a module's page status in the
 * layout, its panels — says it cannot confirm what it shows (the breaker: `UNKNOWN — treat as
 * halted`). Core declares it because every page's script (public/app.js) applies it.
 */
import { Effect, Option, Schema } from "effect"
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

/** The staleness limit in effect (the default when the settings service is not there). */
export const stalenessSeconds: Effect.Effect<number> = Effect.flatMap(Effect.serviceOption(Settings), (settings) =>
  Option.isSome(settings)
    ? settings.value.get(consoleStalenessSeconds)
    : Effect.succeed(consoleStalenessSeconds.default)
)
