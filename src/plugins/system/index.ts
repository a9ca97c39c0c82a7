/**
 * The built-in "system" module: dashboard, About page and `GET /api/v1/system`, plus the
 * `system.sampler` fiber that samples event-loop delay, memory and database round trip. The
 * dashboard shows the breaker through the `CircuitBreaker` contract when a module provides it
 * (and the viewer may see it), and the latest audit entries through core's audit query.
 */
import { Clock, Effect, Option } from "effect"
import { HttpServerResponse } from "effect/http"
import type { BreakerSummaryConsoleData } from "../../../views/components/breaker-summary.ts"
import { listEntries } from "../../core/audit/query.ts"
import { CurrentPrincipal } from "../../core/auth/access.ts"
import { CircuitBreaker } from "../../core/contracts/circuit-breaker/service.ts"
import { liveStreamFor, stalenessSeconds } from "../../core/http/console-live.ts"
import { fragment, page } from "../../core/http/page.ts"
import { defineModule } from "../../core/module.ts"
import { Readiness } from "../../core/readiness.ts"
import { periodicFiber } from "../../core/supervisor.ts"
import { aboutPage } from "./about-page.ts"
import { AUDIT_FEED_PATH, AUDIT_FEED_SIZE, type AuditFeedData, auditFeed } from "./audit-feed.ts"
import { type DashboardData, dashboardPage, dashboardStatus } from "./dashboard-page.ts"
import { SystemInfo, SystemSnapshot } from "./system-info.ts"

/** The dashboard waits this long at most for the audit log (it shows the rest without it). */
const AUDIT_READ_TIMEOUT = "3 seconds"

/** Every breaker scope, when a module provides the breaker and the viewer may see it. */
const breakerSummaryData = Effect.gen(function* () {
  const principal = yield* CurrentPrincipal
  const breaker = yield* Effect.serviceOption(CircuitBreaker)
  if (Option.isNone(breaker) || !principal.permissions.has("VIEW_CIRCUIT_BREAKER")) return undefined
  const data: BreakerSummaryConsoleData = {
    scopes: yield* breaker.value.list,
    canTrip: principal.permissions.has("TRIP_CIRCUIT_BREAKER"),
    csrfToken: principal.session?.csrfToken ?? "",
    now: yield* Clock.currentTimeMillis,
    problem: undefined,
    notice: undefined
  }
  return data
})

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

const dashboardAudit = Effect.gen(function* () {
  const principal = yield* CurrentPrincipal
  return principal.permissions.has("VIEW_AUDIT") ? yield* auditFeedData : undefined
})

const dashboardData = Effect.gen(function* () {
  const report = yield* (yield* Readiness).report
  const info = yield* (yield* SystemInfo).snapshot
  const [breaker, audit] = yield* Effect.all([breakerSummaryData, dashboardAudit], { concurrency: "unbounded" })
  const principal = yield* CurrentPrincipal
  const data: DashboardData = {
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
    eventLoopDelayP99Ms: info.latestSample?.eventLoopDelayP99Ms,
    breaker,
    live:
      breaker === undefined
        ? undefined
        : { stream: liveStreamFor(principal), stalenessSeconds: yield* stalenessSeconds },
    audit
  }
  return data
})

export const systemModule = defineModule({
  name: "system",
  layer: SystemInfo.layer,
  fibers: [periodicFiber("system.sampler", "5 seconds", Effect.asVoid(Effect.flatMap(SystemInfo, (s) => s.sample)))],
  routes: [
    {
      method: "GET",
      path: "/",
      access: "VIEW_DASHBOARD",
      summary:
        "Dashboard: every breaker scope (live, with a one-step trip), Breakwater's own readiness and the latest audit entries.",
      handler: Effect.flatMap(dashboardData, (d) => page("Dashboard", dashboardPage(d)))
    },
    {
      method: "GET",
      path: "/dashboard/status",
      access: "VIEW_DASHBOARD",
      summary: "The dashboard's status section (htmx fragment, refreshed every 5 s).",
      handler: Effect.map(dashboardData, (d) => fragment(dashboardStatus(d)))
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
