/** The dashboard: overall readiness, each component's status, and the process at a glance. */
import type { Attributes } from "../../../views/attributes.ts"
import { factsTable } from "../../../views/components/facts-table.ts"
import { statusBadge, type Tone } from "../../../views/components/status-badge.ts"
import { formatBytes, formatDuration } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"

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
<p>Overall: ${badge(d.status, { "data-field": "overall" })} <small>checked ${d.checkedAt}</small></p>
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

export const dashboardPage = (d: DashboardData): Html => html`<h1>Dashboard</h1>
${dashboardStatus(d)}
<p><small>Breakwater ${d.version}. Details on the <a href="/about">About</a> page.</small></p>`
