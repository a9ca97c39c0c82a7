/**
 * What the breaker shows on pages that are not its own. On every page, for those allowed to view
 * it: the global scope's state as the navigation's badge, the title's first word and the favicon,
 * kept live over the page's event stream (read with the synchronous `readNow`: no store is asked
 * for a page). On the dashboard, first of all: every scope as large as on the Circuit Breaker
 * page, with a one-step trip, and whether the page is live.
 */
import { Effect } from "effect"
import { liveIndicator } from "../../../views/components/live-indicator.ts"
import { html } from "../../../views/html.ts"
import { CurrentPrincipal, type Principal } from "../../core/auth/access.ts"
import { GLOBAL_SCOPE } from "../../core/contracts/circuit-breaker/model.ts"
import { CircuitBreaker } from "../../core/contracts/circuit-breaker/service.ts"
import { stalenessSeconds } from "../../core/http/console-live.ts"
import type { DashboardPanel, PageStatus } from "../../core/http/console-parts.ts"
import { summaryData } from "./console-data.ts"
import { breakerBadge, breakerWord, faviconPath } from "./views/badge.ts"
import { breakerSummaryConsole } from "./views/summary.ts"

const VIEW = "VIEW_CIRCUIT_BREAKER"
const FEATURE = "CIRCUIT_BREAKER"

/**
 * The one stream a page follows: the event bus's `breaker` topic, with ids and `Last-Event-ID`
 * resumption (`core/events/stream-route.ts`); for a caller without VIEW_DASHBOARD (which that
 * route needs), the breaker's own stream, which starts every connection with a snapshot.
 */
export const liveStreamFor = (principal: Principal): string =>
  principal.permissions.has("VIEW_DASHBOARD") ? "/api/v1/events/stream?topics=breaker" : "/api/v1/breaker/stream"

/** The global breaker in the layout of every page. */
export const breakerPageStatus: PageStatus<CircuitBreaker> = {
  id: "breaker",
  permissions: [VIEW],
  feature: FEATURE,
  render: (principal) =>
    Effect.map(CircuitBreaker, (breaker) => {
      const global = breaker.readNow(GLOBAL_SCOPE)
      const word = breakerWord(global)
      return {
        badge: breakerBadge(global),
        titleWord: word,
        favicon: faviconPath(word),
        stream: liveStreamFor(principal)
      }
    })
}

/** Every scope, first on the dashboard, with whether the page is live. */
export const breakerDashboardPanel: DashboardPanel<CircuitBreaker> = {
  id: "breaker",
  order: 0,
  permissions: [VIEW],
  feature: FEATURE,
  render: Effect.gen(function* () {
    const data = yield* summaryData()
    const stream = liveStreamFor(yield* CurrentPrincipal)
    return html`${liveIndicator({ id: "dashboard-live", stream, stalenessSeconds: yield* stalenessSeconds })}
${breakerSummaryConsole({ ...data, notice: undefined })}`
  })
}
