/** The About page: what is running, where its data lives, and the state of its fibers. */
import { formatBytes, formatDuration, formatTimestamp } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"
import { type FiberRow, fibersTable } from "./fibers-table.ts"

export interface AboutData {
  readonly version: string
  readonly nodeVersion: string
  readonly startedAt: string
  readonly uptimeSeconds: number
  readonly installationId: string
  readonly installedAt: string
  readonly database: { readonly mode: string; readonly location: string }
  readonly redis: { readonly mode: string }
  readonly listen: string
  readonly fibers: ReadonlyArray<FiberRow>
  readonly latestSample:
    | {
        readonly at: number
        readonly eventLoopDelayP99Ms: number
        readonly rssBytes: number
        readonly heapUsedBytes: number
      }
    | undefined
}

export const aboutPage = (d: AboutData): Html => html`<h1>About this Breakwater</h1>
<table class="compact" id="about">
<tbody>
<tr><th scope="row">Version</th><td data-field="version">${d.version}</td></tr>
<tr><th scope="row">Node.js</th><td>${d.nodeVersion}</td></tr>
<tr><th scope="row">Started</th><td>${formatTimestamp(new Date(d.startedAt))}</td></tr>
<tr><th scope="row">Uptime</th><td data-field="uptime">${formatDuration(d.uptimeSeconds)}</td></tr>
<tr><th scope="row">Installation</th><td><code>${d.installationId}</code>, since ${formatTimestamp(new Date(d.installedAt))}</td></tr>
<tr><th scope="row">Database</th><td data-field="database-mode">${d.database.mode === "embedded" ? "embedded PostgreSQL (PGlite)" : "PostgreSQL"} · <code>${d.database.location}</code></td></tr>
<tr><th scope="row">Redis</th><td data-field="redis-mode">${d.redis.mode === "redis" ? "Redis" : "in-process (no REDIS_URL)"}</td></tr>
<tr><th scope="row">Listening on</th><td><code>${d.listen}</code></td></tr>
${
  d.latestSample === undefined
    ? ""
    : html`<tr><th scope="row">Memory</th><td>RSS ${formatBytes(d.latestSample.rssBytes)}, heap ${formatBytes(d.latestSample.heapUsedBytes)}</td></tr>
<tr><th scope="row">Event-loop delay p99</th><td>${d.latestSample.eventLoopDelayP99Ms.toFixed(1)} ms</td></tr>`
}
</tbody>
</table>
<h2>Background fibers</h2>
${fibersTable(d.fibers)}`
