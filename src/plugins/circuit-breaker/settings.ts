/**
 * The breaker's runtime settings, declared with the module and read through the `Settings`
 * service: a change is versioned, audited and takes effect on every replica within a second.
 * `GET`/`PUT /api/v1/breaker/settings` stay as the breaker's view of the two.
 */
import { Effect, Schema } from "effect"
import type { Actor } from "../../core/audit/entry.ts"
import type { BreakerSettings } from "../../core/contracts/circuit-breaker/model.ts"
import { Settings } from "../../core/settings/service.ts"
import { defineSetting } from "../../core/settings/spec.ts"
import { databaseErrors } from "./guards.ts"

export const quietPeriodSeconds = defineSetting({
  key: "breaker.quiet_period_seconds",
  schema: Schema.Int.check(Schema.isBetween({ minimum: 0, maximum: 86_400 })),
  default: 300,
  description:
    "How long a scope stays in QUIET_PERIOD after a reset before it is OPEN again. Trading is allowed during the quiet period; a new trip ends it.",
  permission: "MANAGE_SYSTEM_CONFIG",
  unit: "seconds"
})

export const resetApprovals = defineSetting<1 | 2>({
  key: "breaker.reset_approvals",
  schema: Schema.Literals([1, 2]),
  default: 1,
  description:
    "1: a reset takes effect at once. 2: a reset becomes a request that a second operator (another person) must approve within 15 minutes.",
  permission: "MANAGE_SYSTEM_CONFIG"
})

export const breakerSettings = [quietPeriodSeconds, resetApprovals] as const

/** Both settings as the breaker uses them, from memory (never fails). */
export const currentSettings = Effect.gen(function* () {
  const settings = yield* Settings
  return {
    quiet_period_seconds: yield* settings.get(quietPeriodSeconds),
    reset_approvals: yield* settings.get(resetApprovals)
  } satisfies BreakerSettings
})

/**
 * Changes the given ones, one audited version each. The values were decoded with the breaker's
 * schema already, so a refusal here is a bug; the database being down is `stores_unhealthy`.
 */
export const changeSettings = (change: Partial<BreakerSettings>, actor: Actor) =>
  Effect.gen(function* () {
    const settings = yield* Settings
    if (change.quiet_period_seconds !== undefined)
      yield* settings.set(quietPeriodSeconds.key, change.quiet_period_seconds, actor)
    if (change.reset_approvals !== undefined) yield* settings.set(resetApprovals.key, change.reset_approvals, actor)
    return yield* currentSettings
  }).pipe(
    Effect.catchTags({
      SettingNotFound: (e) => Effect.die(e),
      InvalidSettingValue: (e) => Effect.die(e),
      SettingVersionConflict: (e) => Effect.die(e)
    }),
    databaseErrors
  )
