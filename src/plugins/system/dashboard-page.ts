/**
 * The dashboard, the first page after sign-in, in the order an operator needs it at 3 a.m.: the
 * panels the installed modules contribute (`core/http/console-parts.ts`), lowest order first —
 * whether trading is allowed (every breaker scope, with a one-step trip) comes first; health
 * problems, firing alerts and the delivery queue take their places after it as those capabilities
 * are installed — then Breakwater's own readiness and the latest audit entries, which this module
 * contributes itself. Each panel keeps itself live; while the page's live connection is lost
 * longer than the staleness limit every breaker display on it says UNKNOWN.
 */
import type { Attributes } from "../../../views/attributes.ts"
import { factsTable } from "../../../views/components/facts-table.ts"
import { statusBadge, type Tone } from "../../../views/components/status-badge.ts"
import { formatBytes, formatDuration } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"

/** Breakwater's own readiness and vital figures. */
export interface ReadinessData {
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
  d: ReadinessData
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

/** Breakwater's own health: the dashboard's panel after what it watches. */
export const breakwaterPanel = (
  d: ReadinessData
): Html => html`<section id="dashboard-breakwater" aria-labelledby="dashboard-breakwater-title">
<h2 id="dashboard-breakwater-title">Breakwater itself</h2>
${dashboardStatus(d)}
</section>`

export const dashboardPage = (d: {
  readonly panels: ReadonlyArray<Html>
  readonly version: string
}): Html => html`<h1>Dashboard</h1>
${d.panels}
<p><small>Breakwater ${d.version}. Details on the <a href="/about">About</a> page.</small></p>`
