/**
 * The built-in "system" module: dashboard, About page and `GET /api/v1/system`, plus the
 * `system.sampler` fiber that samples event-loop delay, memory and database round trip.
 */
import { Effect } from "effect"
import { HttpServerResponse } from "effect/http"
import { fragment, page } from "../../core/http/page.ts"
import { defineModule } from "../../core/module.ts"
import { Readiness } from "../../core/readiness.ts"
import { periodicFiber } from "../../core/supervisor.ts"
import { aboutPage } from "./about-page.ts"
import { type DashboardData, dashboardPage, dashboardStatus } from "./dashboard-page.ts"
import { SystemInfo, SystemSnapshot } from "./system-info.ts"

const dashboardData = Effect.gen(function* () {
  const report = yield* (yield* Readiness).report
  const info = yield* (yield* SystemInfo).snapshot
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
    eventLoopDelayP99Ms: info.latestSample?.eventLoopDelayP99Ms
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
      summary: "Dashboard: readiness of each component and the process at a glance.",
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
