/**
 * The dashboard, the first page after sign-in, in the order an operator needs it at 3 a.m.: first
 * whether trading is allowed — every breaker scope as large as on the Circuit Breaker page, with a
 * one-step trip — then the health of what Breakwater watches (health problems, firing alerts, the
 * delivery and poison queues take their places here as those capabilities are installed), then
 * Breakwater's own readiness and the latest audit entries. Everything on it is live: the breaker
 * summary and the audit entries re-fetch on every breaker event, the readiness every 5 s; while the
 * live connection is lost longer than the staleness limit every breaker display says UNKNOWN.
 */
import type { Attributes } from "../../../views/attributes.ts"
import { type BreakerSummaryConsoleData, breakerSummaryConsole } from "../../../views/components/breaker-summary.ts"
import { factsTable } from "../../../views/components/facts-table.ts"
import { liveIndicator } from "../../../views/components/live-indicator.ts"
import { statusBadge, type Tone } from "../../../views/components/status-badge.ts"
import { formatBytes, formatDuration } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"
import { type AuditFeedData, auditFeed } from "./audit-feed.ts"

export interface DashboardData {
  readonly status: string
  readonly checkedAt: string
  readonly checks: ReadonlyArray<{
    readonly name: string
    readonly status: string
    readonly latencyMs: number
    readonly message: string | undefined
  }>
  readonly uptimeSeconds: number
  readonly version: string
  readonly databaseMode: string
  readonly redisMode: string
  readonly rssBytes: number | undefined
  readonly eventLoopDelayP99Ms: number | undefined
  /** Every breaker scope, for a viewer of the breaker when the breaker is installed. */
  readonly breaker: BreakerSummaryConsoleData | undefined
  /** The stream that keeps the breaker live, and the staleness limit (also when the layout names none). */
  readonly live?: { readonly stream: string; readonly stalenessSeconds: number } | undefined
  /** The latest audit entries, for a viewer of the audit log. */
  readonly audit: AuditFeedData | undefined
}

/** Readiness (ready/degraded/unavailable) and check (up/degraded/down) words, by colour. */
const tones: Readonly<Record<string, Tone>> = {
  ready: "ok",
  up: "ok",
  degraded: "warning",
  down: "danger",
  unavailable: "danger"
}
const badge = (status: string, attrs?: Attributes) => statusBadge(tones[status] ?? "neutral", status, attrs)

/** The part that refreshes itself every 5 s through htmx. */
export const dashboardStatus = (
  d: DashboardData
): Html => html`<section id="dashboard-status" hx-get="/dashboard/status" hx-trigger="every 5s" hx-swap="outerHTML">
<p>Breakwater's own readiness (not the breaker): ${badge(d.status, { "data-field": "overall" })} <small>checked ${d.checkedAt}</small></p>
<div class="cards">
${d.checks.map(
  (c) => html`<article data-check="${c.name}">
<header><strong>${c.name}</strong></header>
${badge(c.status)} <small>${c.latencyMs} ms</small>
${c.message === undefined ? "" : html`<p><small>${c.message}</small></p>`}
</article>`
)}
</div>
${factsTable([
  { label: "Uptime", value: formatDuration(d.uptimeSeconds) },
  { label: "Database", value: d.databaseMode },
  { label: "Redis", value: d.redisMode },
  d.rssBytes !== undefined && { label: "Memory (RSS)", value: formatBytes(d.rssBytes) },
  d.eventLoopDelayP99Ms !== undefined && {
    label: "Event-loop delay p99",
    value: `${d.eventLoopDelayP99Ms.toFixed(1)} ms`
  }
])}
</section>`

/**
 * The dashboard's sections, in order. A capability adds its own here (health problems, firing
 * alerts, the delivery queue) between the breaker and Breakwater's own health.
 */
const sections = (d: DashboardData): ReadonlyArray<Html> => [
  d.breaker === undefined ? html`` : breakerSummaryConsole(d.breaker),
  html`<section id="dashboard-breakwater" aria-labelledby="dashboard-breakwater-title">
<h2 id="dashboard-breakwater-title">Breakwater itself</h2>
${dashboardStatus(d)}
</section>`,
  d.audit === undefined ? html`` : auditFeed(d.audit)
]

export const dashboardPage = (d: DashboardData): Html => html`<h1>Dashboard</h1>
${d.breaker === undefined ? "" : liveIndicator({ id: "dashboard-live", stream: d.live?.stream, stalenessSeconds: d.live?.stalenessSeconds })}
${sections(d)}
<p><small>Breakwater ${d.version}. Details on the <a href="/about">About</a> page.</small></p>`
