/** The dashboard: overall readiness, each component's status, and the process at a glance. */
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

/** The part that refreshes itself every 5 s through htmx. */
export const dashboardStatus = (
  d: DashboardData
): Html => html`<section id="dashboard-status" hx-get="/dashboard/status" hx-trigger="every 5s" hx-swap="outerHTML">
<p>Overall: <span class="status ${d.status}" data-field="overall">${d.status}</span> <small>checked ${d.checkedAt}</small></p>
<div class="cards">
${d.checks.map(
  (c) => html`<article data-check="${c.name}">
<header><strong>${c.name}</strong></header>
<span class="status ${c.status}">${c.status}</span> <small>${c.latencyMs} ms</small>
${c.message === undefined ? "" : html`<p><small>${c.message}</small></p>`}
</article>`
)}
</div>
<table class="compact">
<tbody>
<tr><th scope="row">Uptime</th><td>${formatDuration(d.uptimeSeconds)}</td></tr>
<tr><th scope="row">Database</th><td>${d.databaseMode}</td></tr>
<tr><th scope="row">Redis</th><td>${d.redisMode}</td></tr>
${d.rssBytes === undefined ? "" : html`<tr><th scope="row">Memory (RSS)</th><td>${formatBytes(d.rssBytes)}</td></tr>`}
${d.eventLoopDelayP99Ms === undefined ? "" : html`<tr><th scope="row">Event-loop delay p99</th><td>${d.eventLoopDelayP99Ms.toFixed(1)} ms</td></tr>`}
</tbody>
</table>
</section>`

export const dashboardPage = (d: DashboardData): Html => html`<h1>Dashboard</h1>
${dashboardStatus(d)}
<p><small>Breakwater ${d.version}. Details on the <a href="/about">About</a> page.</small></p>`
