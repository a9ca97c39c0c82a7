/**
 * Probe routes: `/healthz` (liveness: 200 while the process serves), `/readyz` (each dependency's
 * status and latency; 503 only when a critical one is down; messages and details only for a
 * caller holding VIEW_DASHBOARD) and `/metrics` (Prometheus text, behind a bearer token when
 * `METRICS_TOKEN` is set).
 */
import { timingSafeEqual } from "node:crypto"
import { Effect, Option, Redacted, Schema } from "effect"
import { HttpServerRequest, HttpServerResponse } from "effect/http"
import { AccessControl } from "../auth/access.ts"
import { AppConfig } from "../config.ts"
import { Metrics } from "../observability/metrics.ts"
import { publicReport, Readiness, ReadinessReport } from "../readiness.ts"
import type { RouteSpec } from "./route.ts"

const sameSecret = (given: string, expected: string): boolean => {
  const a = Buffer.from(given)
  const b = Buffer.from(expected)
  return a.length === b.length && timingSafeEqual(a, b)
}

export const probeRoutes: ReadonlyArray<RouteSpec<AppConfig | Metrics | Readiness | AccessControl>> = [
  {
    method: "GET",
    path: "/healthz",
    access: "public",
    skipIdentity: true,
    summary: "Liveness: 200 while the process serves requests.",
    docs: { response: Schema.Struct({ status: Schema.Literal("ok") }), tags: ["probes"] },
    handler: Effect.succeed(
      HttpServerResponse.jsonUnsafe({ status: "ok" }, { headers: { "cache-control": "no-store" } })
    )
  },
  {
    method: "GET",
    path: "/readyz",
    access: "public",
    skipIdentity: true,
    summary:
      "Readiness: each dependency's status and latency; 503 while a critical one is down. Messages and details (hosts, errors) only for a caller holding VIEW_DASHBOARD.",
    docs: {
      response: ReadinessReport,
      responses: { 503: "A critical dependency (the database) is down; the body is the same report." },
      tags: ["probes"]
    },
    handler: Effect.gen(function* () {
      const request = yield* HttpServerRequest.HttpServerRequest
      // Probes must answer whatever the session store's state: a caller that cannot be identified is anonymous.
      const caller = yield* (yield* AccessControl).identify(request).pipe(Effect.orElseSucceed(() => undefined))
      const full = yield* (yield* Readiness).report
      const report = caller?.permissions.has("VIEW_DASHBOARD") === true ? full : publicReport(full)
      return HttpServerResponse.jsonUnsafe(report, {
        status: report.status === "unavailable" ? 503 : 200,
        headers: { "cache-control": "no-store" }
      })
    })
  },
  {
    method: "GET",
    path: "/metrics",
    access: "public",
    skipIdentity: true,
    summary: "Prometheus metrics (bearer token when METRICS_TOKEN is set).",
    docs: { responses: { 401: "METRICS_TOKEN is set and the bearer token is missing or wrong." }, tags: ["probes"] },
    handler: Effect.gen(function* () {
      const config = yield* AppConfig
      if (Option.isSome(config.metricsToken)) {
        const request = yield* HttpServerRequest.HttpServerRequest
        const header = request.headers.authorization ?? ""
        const given = header.startsWith("Bearer ") ? header.slice("Bearer ".length) : ""
        if (!sameSecret(given, Redacted.value(config.metricsToken.value))) {
          return HttpServerResponse.text("metrics require a valid bearer token\n", {
            status: 401,
            headers: { "www-authenticate": 'Bearer realm="metrics"' }
          })
        }
      }
      const metrics = yield* Metrics
      const text = yield* metrics.render
      return HttpServerResponse.text(text, {
        contentType: metrics.contentType,
        headers: { "cache-control": "no-store" }
      })
    })
  }
]
