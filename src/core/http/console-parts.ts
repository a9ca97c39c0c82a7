/**
 * What modules contribute to console pages that are not their own: panels on the dashboard (the
 * breaker's scopes, later health problems, firing alerts, the delivery queue) and the status every
 * page's layout carries in its navigation, title and favicon (the global breaker). A module
 * declares them (`ModuleSpec.dashboard`, `ModuleSpec.pageStatus`); core renders them without
 * knowing the capability, so adding one changes nothing outside the module's folder.
 */
import { Context, Effect, Layer, Schema } from "effect"
import type { HttpServerRequest } from "effect/http"
import type { Html } from "../../../views/html.ts"
import type { LayoutStatus } from "../../../views/layout.ts"
import type { CurrentPrincipal, Principal } from "../auth/access.ts"
import type { Permission } from "../auth/permissions.ts"
import { AppConfig } from "../config.ts"

/** What a panel may ask for besides its module's services: the request and who made it. */
export type PanelServices = HttpServerRequest.HttpServerRequest | CurrentPrincipal

/** Who sees a contribution: a holder of any of its permissions, while its feature is on. */
interface Visibility {
  /** Shown to a principal holding any of these. */
  readonly permissions: ReadonlyArray<Permission>
  /** `FEATURE_<feature>` hides it when off. */
  readonly feature?: string
}

/**
 * A section of the dashboard. Orders so far: the breaker 0, health problems 100, firing alerts 200,
 * the delivery queue 300, Breakwater itself 900, the latest audit entries 950.
 */
export interface DashboardPanel<R = never> extends Visibility {
  /** Unique among panels; names it in messages. */
  readonly id: string
  /** Lower first; ties by id. */
  readonly order: number
  /**
   * The panel for the current request, or nothing to show. It does not fail: a panel that cannot
   * read what it shows says so inside itself, and the other panels still show.
   */
  readonly render: Effect.Effect<Html | undefined, never, R | PanelServices>
}

/**
 * A state every page carries for those who may see it: its badge in the navigation, the first word
 * of the title, the favicon, and the event stream that keeps them live.
 */
export interface PageStatus<R = never> extends Visibility {
  readonly id: string
  /** The status for this principal now (`undefined`: none to show). Synchronous reads only: it runs on every page. */
  readonly render: (principal: Principal) => Effect.Effect<Omit<LayoutStatus, "stalenessSeconds"> | undefined, never, R>
}

/** Two modules declared a dashboard panel with the same id. */
export class DuplicatePanel extends Schema.TaggedError<DuplicatePanel>()("DuplicatePanel", {
  message: Schema.String
}) {}

export interface ConsolePartsShape {
  readonly addPanels: (module: string, panels: ReadonlyArray<DashboardPanel>) => Effect.Effect<void, DuplicatePanel>
  readonly addStatus: (status: PageStatus) => Effect.Effect<void>
  /** The dashboard's panels this principal may see, rendered in order. */
  readonly panelsFor: (principal: Principal) => Effect.Effect<ReadonlyArray<Html>, never, PanelServices>
  /** The page status this principal sees (the first by module order that shows one). */
  readonly statusFor: (
    principal: Principal | undefined
  ) => Effect.Effect<Omit<LayoutStatus, "stalenessSeconds"> | undefined>
}

export class ConsoleParts extends Context.Service<ConsoleParts, ConsolePartsShape>()("breakwater/ConsoleParts") {
  static readonly layer = Layer.effect(
    ConsoleParts,
    Effect.gen(function* () {
      const config = yield* AppConfig
      const panels: Array<DashboardPanel & { readonly module: string }> = []
      const statuses: Array<PageStatus> = []
      const visible = (v: Visibility, principal: Principal) =>
        (v.feature === undefined || AppConfig.featureEnabled(config, v.feature)) &&
        v.permissions.some((p) => principal.permissions.has(p))
      return {
        addPanels: (module, more) =>
          Effect.suspend(() => {
            for (const panel of more) {
              const other = panels.find((p) => p.id === panel.id)
              if (other !== undefined)
                return Effect.fail(
                  new DuplicatePanel({
                    message: `dashboard panel ${panel.id} is declared by both ${other.module} and ${module}: give one another id`
                  })
                )
              panels.push({ ...panel, module })
            }
            panels.sort((a, b) => a.order - b.order || a.id.localeCompare(b.id))
            return Effect.void
          }),
        addStatus: (status) => Effect.sync(() => void statuses.push(status)),
        panelsFor: (principal) =>
          Effect.map(
            Effect.forEach(
              panels.filter((p) => visible(p, principal)),
              (p) => p.render,
              { concurrency: "unbounded" }
            ),
            (rendered) => rendered.filter((h): h is Html => h !== undefined)
          ),
        statusFor: (principal) =>
          Effect.gen(function* () {
            if (principal === undefined) return undefined
            for (const status of statuses) {
              if (!visible(status, principal)) continue
              const shown = yield* status.render(principal)
              if (shown !== undefined) return shown
            }
            return undefined
          })
      }
    })
  )
}
