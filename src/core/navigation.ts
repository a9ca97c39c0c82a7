/**
 * Console navigation, built from the modules' entries. Each entry is shown only to a principal
 * holding its permission, and only while its capability's feature switch is on.
 */
import { Context, Effect, Layer } from "effect"
import type { Principal } from "./auth/access.ts"
import type { Permission } from "./auth/permissions.ts"
import { AppConfig } from "./config.ts"

export interface NavEntry {
  readonly label: string
  readonly path: string
  /** Shown when the principal holds any of these. */
  readonly permissions: ReadonlyArray<Permission>
  /** `FEATURE_<feature>` hides the entry when off. */
  readonly feature?: string
  /** Lower first; ties by label. */
  readonly order: number
}

export interface NavigationShape {
  readonly add: (entries: ReadonlyArray<NavEntry>) => Effect.Effect<void>
  readonly visibleTo: (principal: Principal | undefined) => Effect.Effect<ReadonlyArray<NavEntry>>
}

export class Navigation extends Context.Service<Navigation, NavigationShape>()("breakwater/Navigation") {
  static readonly layer = Layer.effect(
    Navigation,
    Effect.gen(function* () {
      const config = yield* AppConfig
      const entries: Array<NavEntry> = []
      return {
        add: (more) => Effect.sync(() => void entries.push(...more)),
        visibleTo: (principal) =>
          Effect.sync(() =>
            entries
              .filter((e) => e.feature === undefined || AppConfig.featureEnabled(config, e.feature))
              .filter((e) => principal !== undefined && e.permissions.some((p) => principal.permissions.has(p)))
              .sort((a, b) => a.order - b.order || a.label.localeCompare(b.label))
          )
      }
    })
  )
}
