/** The About page: what is running, where its data lives, and the state of its fibers. */
import { factsTable } from "../../../views/components/facts-table.ts"
import { formatBytes, formatDuration, formatTimestamp } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"
import { type FiberRow, fibersTable } from "./fibers-table.ts"

export interface AboutData {
  readonly version: string
  readonly nodeVersion: string
  readonly memoryMode: "size" | "speed"
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
${factsTable(
  [
    { label: "Version", value: d.version, field: "version" },
    { label: "Node.js", value: d.nodeVersion },
    { label: "Started", value: formatTimestamp(new Date(d.startedAt)) },
    { label: "Uptime", value: formatDuration(d.uptimeSeconds), field: "uptime" },
    {
      label: "Installation",
      value: html`<code>${d.installationId}</code>, since ${formatTimestamp(new Date(d.installedAt))}`
    },
    {
      label: "Database",
      value: html`${d.database.mode === "embedded" ? "embedded PostgreSQL (PGlite)" : "PostgreSQL"} · <code>${d.database.location}</code>`,
      field: "database-mode"
    },
    { label: "Redis", value: d.redis.mode === "redis" ? "Redis" : "in-process (no REDIS_URL)", field: "redis-mode" },
    { label: "Listening on", value: html`<code>${d.listen}</code>` },
    {
      label: "Memory",
      value: html`${d.latestSample === undefined ? "" : `RSS ${formatBytes(d.latestSample.rssBytes)}, heap ${formatBytes(d.latestSample.heapUsedBytes)}; `}<span data-field="memory-mode">${
        d.memoryMode === "size"
          ? "V8 optimised for size (embedded database): less memory, somewhat slower pages"
          : "V8 optimised for speed (its defaults)"
      }</span>`
    },
    d.latestSample !== undefined && {
      label: "Event-loop delay p99",
      value: `${d.latestSample.eventLoopDelayP99Ms.toFixed(1)} ms`
    }
  ],
  { id: "about" }
)}
<h2>Background fibers</h2>
${fibersTable(d.fibers)}`
