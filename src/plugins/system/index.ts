/**
 * The built-in "system" module: dashboard, About page and `GET /api/v1/system`, plus the
 * `system.sampler` fiber that samples event-loop delay, memory and database round trip. The
 * dashboard shows the panels every installed module contributes (the breaker's first), then its
 * own: Breakwater's readiness and the latest audit entries (through core's audit query).
 */
import { Effect } from "effect"
import { HttpServerResponse } from "effect/http"
import { listEntries } from "../../core/audit/query.ts"
import { CurrentPrincipal } from "../../core/auth/access.ts"
import { ConsoleParts, type DashboardPanel } from "../../core/http/console-parts.ts"
import { fragment, page } from "../../core/http/page.ts"
import { type CoreServices, defineModule } from "../../core/module.ts"
import { Readiness } from "../../core/readiness.ts"
import { periodicFiber } from "../../core/supervisor.ts"
import { version } from "../../core/version.ts"
import { aboutPage } from "./about-page.ts"
import { AUDIT_FEED_PATH, AUDIT_FEED_SIZE, type AuditFeedData, auditFeed } from "./audit-feed.ts"
import { breakwaterPanel, dashboardPage, dashboardStatus, type ReadinessData } from "./dashboard-page.ts"
import { SystemInfo, SystemSnapshot } from "./system-info.ts"

/** The dashboard waits this long at most for the audit log (it shows the rest without it). */
const AUDIT_READ_TIMEOUT = "3 seconds"

/** The latest audit entries, or why they cannot be shown. */
const auditFeedData = listEntries({ limit: AUDIT_FEED_SIZE }).pipe(
  Effect.timeout(AUDIT_READ_TIMEOUT),
  Effect.map((result): AuditFeedData => ({ entries: result.entries, error: undefined })),
  Effect.catch((error) =>
    Effect.succeed<AuditFeedData>({
      entries: [],
      error: error._tag === "TimeoutError" ? `no answer within ${AUDIT_READ_TIMEOUT}` : "the database did not answer"
    })
  )
)

const readinessData = Effect.gen(function* () {
  const report = yield* (yield* Readiness).report
  const info = yield* (yield* SystemInfo).snapshot
  const data: ReadinessData = {
    status: report.status,
    checkedAt: report.checkedAt,
    checks: Object.entries(report.checks).map(([name, c]) => ({
      name,
      status: c.status,
      latencyMs: c.latencyMs,
      message: c.message
    })),
    uptimeSeconds: info.uptimeSeconds,
    version: info.version,
    databaseMode:
      info.database.mode === "embedded" ? "embedded PostgreSQL (PGlite)" : `PostgreSQL at ${info.database.location}`,
    redisMode: info.redis.mode === "redis" ? "Redis" : "in-process (no REDIS_URL)",
    rssBytes: info.latestSample?.rssBytes,
    eventLoopDelayP99Ms: info.latestSample?.eventLoopDelayP99Ms
  }
  return data
})

/** This module's own panels: after everything Breakwater watches. */
const panels: ReadonlyArray<DashboardPanel<SystemInfo | CoreServices>> = [
  {
    id: "breakwater",
    order: 900,
    permissions: ["VIEW_DASHBOARD"],
    render: Effect.map(readinessData, breakwaterPanel)
  },
  { id: "audit", order: 950, permissions: ["VIEW_AUDIT"], render: Effect.map(auditFeedData, auditFeed) }
]

const dashboard = Effect.gen(function* () {
  const principal = yield* CurrentPrincipal
  const shown = yield* (yield* ConsoleParts).panelsFor(principal)
  return yield* page("Dashboard", dashboardPage({ panels: shown, version }))
})

export const systemModule = defineModule({
  name: "system",
  layer: SystemInfo.layer,
  dashboard: panels,
  fibers: [periodicFiber("system.sampler", "5 seconds", Effect.asVoid(Effect.flatMap(SystemInfo, (s) => s.sample)))],
  routes: [
    {
      method: "GET",
      path: "/",
      access: "VIEW_DASHBOARD",
      summary:
        "Dashboard: every breaker scope (live, with a one-step trip), Breakwater's own readiness and the latest audit entries.",
      handler: dashboard
    },
    {
      method: "GET",
      path: "/dashboard/status",
      access: "VIEW_DASHBOARD",
      summary: "The dashboard's status section (htmx fragment, refreshed every 5 s).",
      handler: Effect.map(readinessData, (d) => fragment(dashboardStatus(d)))
    },
    {
      method: "GET",
      path: AUDIT_FEED_PATH,
      access: "VIEW_AUDIT",
      summary:
        "The dashboard's latest audit entries (htmx fragment, re-fetched on every breaker event and every 15 s).",
      handler: Effect.map(auditFeedData, (d) => fragment(auditFeed(d)))
    },
    {
      method: "GET",
      path: "/about",
      access: "VIEW_DASHBOARD",
      summary: "About: version, uptime, database and Redis modes, supervised fibers.",
      handler: Effect.flatMap(
        Effect.flatMap(SystemInfo, (s) => s.snapshot),
        (d) => page("About", aboutPage(d))
      )
    },
    {
      method: "GET",
      path: "/api/v1/system",
      access: "VIEW_DASHBOARD",
      summary: "The About information as JSON.",
      docs: { response: SystemSnapshot, tags: ["system"] },
      handler: Effect.map(
        Effect.flatMap(SystemInfo, (s) => s.snapshot),
        (d) => HttpServerResponse.jsonUnsafe(d)
      )
    }
  ],
  navigation: [
    { label: "Dashboard", path: "/", permissions: ["VIEW_DASHBOARD"], order: 0 },
    { label: "About", path: "/about", permissions: ["VIEW_DASHBOARD"], order: 1000 }
  ]
})
