/**
 * Core's own module: the probe routes, the static assets, the settings API and console pages
 * (with their navigation entry), the readiness checks of the
 * database, Redis and the supervised fibers, and core's fibers (audit sealer, API rate limit sharing).
 */
import { Effect, Layer } from "effect"
import { HttpServerResponse } from "effect/http"
import { SqlClient } from "effect/sql"
import { auditWriterFiber } from "./audit/audit.ts"
import { sealerFiber } from "./audit/sealer.ts"
import { apiRateLimitFiber } from "./auth/api-rate-limit.ts"
import { auditCommand } from "./cli/audit.ts"
import { migrateCommand } from "./cli/migrate.ts"
import { DatabaseInfo } from "./db/client.ts"
import { eventFibers, eventRoutes } from "./events/index.ts"
import { maxStreams } from "./events/sse-streams.ts"
import { consoleStalenessSeconds } from "./http/console-live.ts"
import { openApiDocument } from "./http/openapi.ts"
import { probeRoutes } from "./http/probes.ts"
import { RouteTable } from "./http/route.ts"
import { staticRoutes } from "./http/static.ts"
import { idempotencyRetention, idempotencyRetentionDays, idempotencyTtlHours } from "./idempotency/settings.ts"
import { defineModule } from "./module.ts"
import { Readiness } from "./readiness.ts"
import { SharedState } from "./redis/shared-state.ts"
import { retentionCommand } from "./retention/cli.ts"
import { coreRetentionJobs, sessionRetentionDays } from "./retention/core-jobs.ts"
import { retentionFiber } from "./retention/fiber.ts"
import { retentionRoutes } from "./retention/routes.ts"
import { settingsConsoleRoutes } from "./settings/console-routes.ts"
import { settingsFibers } from "./settings/fibers.ts"
import { settingsRoutes } from "./settings/routes.ts"
import { settingsTopic } from "./settings/service.ts"
import { Supervisor } from "./supervisor.ts"

const readinessChecks = Layer.effectDiscard(
  Effect.gen(function* () {
    const readiness = yield* Readiness
    const sql = yield* SqlClient.SqlClient
    const database = yield* DatabaseInfo
    const shared = yield* SharedState
    const supervisor = yield* Supervisor
    yield* readiness.register({
      name: "database",
      critical: true,
      run: sql`SELECT 1`.pipe(
        Effect.as({ status: "up" as const, details: { mode: database.mode, location: database.location } }),
        Effect.catch((error) =>
          Effect.succeed({
            status: "down" as const,
            message: error.message,
            details: { mode: database.mode, location: database.location }
          })
        )
      )
    })
    yield* readiness.register({
      name: "redis",
      // Without Redis the console must stay reachable: Redis down is "degraded", not "unavailable".
      critical: false,
      run:
        shared.mode === "in-process"
          ? Effect.succeed({ status: "up" as const, details: { mode: "in-process" } })
          : shared.ping.pipe(
              Effect.as({ status: "up" as const, details: { mode: "redis" } }),
              Effect.catch((error) =>
                Effect.succeed({ status: "down" as const, message: error.message, details: { mode: "redis" } })
              )
            )
    })
    yield* readiness.register({
      name: "fibers",
      critical: false,
      run: Effect.map(supervisor.statuses, (fibers) => {
        // A fiber on standby (another replica holds its lease) is healthy.
        const failing = fibers.filter((f) => f.state === "backing-off").map((f) => f.name)
        return {
          status: failing.length === 0 ? ("up" as const) : ("degraded" as const),
          ...(failing.length === 0 ? {} : { message: `restarting: ${failing.join(", ")}` }),
          details: Object.fromEntries(
            fibers.map((f) => [
              f.name,
              {
                state: f.state,
                restarts: f.restarts,
                lastSuccessAt: f.lastSuccessAt === undefined ? null : new Date(f.lastSuccessAt).toISOString(),
                lastFailure: f.lastFailure?.message ?? null
              }
            ])
          )
        }
      })
    })
  })
)

export const coreModule = defineModule({
  name: "core",
  layer: readinessChecks,
  commands: [migrateCommand, auditCommand, retentionCommand],
  settings: [sessionRetentionDays, idempotencyTtlHours, idempotencyRetentionDays, consoleStalenessSeconds, maxStreams],
  retentionJobs: [...coreRetentionJobs, idempotencyRetention],
  fibers: [auditWriterFiber, sealerFiber, apiRateLimitFiber, retentionFiber, ...eventFibers, ...settingsFibers],
  topics: [settingsTopic],
  navigation: [{ label: "Settings", path: "/admin/settings", permissions: ["MANAGE_SYSTEM_CONFIG"], order: 920 }],
  routes: [
    ...eventRoutes,
    ...probeRoutes,
    ...retentionRoutes,
    ...settingsRoutes,
    ...settingsConsoleRoutes,
    ...staticRoutes(),
    {
      method: "GET",
      path: "/api/v1/openapi.json",
      access: "public",
      summary: "This API's OpenAPI 3.1 description, generated from the route table.",
      handler: Effect.map(
        Effect.flatMap(RouteTable, (t) => t.routes),
        (routes) => HttpServerResponse.jsonUnsafe(openApiDocument(routes))
      )
    }
  ]
})
