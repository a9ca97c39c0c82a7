/**
 * The Diagnostics page: what the process is (pid, host, memory), a form to capture a CPU profile
 * of N seconds and one to take a heap snapshot (each answered with the file as a download, so it
 * works without JavaScript), a refusal or bad input shown next to its form, and the latest
 * captures from the audit log. How to open the files in Chrome DevTools is said on the page.
 */
import { emptyState } from "../../../views/components/empty-state.ts"
import { factsTable } from "../../../views/components/facts-table.ts"
import { formField } from "../../../views/components/form-field.ts"
import { statusBadge, type Tone } from "../../../views/components/status-badge.ts"
import { table } from "../../../views/components/table.ts"
import { csrfInput } from "../../../views/csrf.ts"
import { formatBytes, formatDuration, formatTimestamp } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"

export interface ProcessFacts {
  readonly pid: number
  readonly host: string
  readonly node: string
  readonly uptimeSeconds: number
  readonly heapUsedBytes: number
  readonly heapLimitBytes: number
  readonly rssBytes: number
}

export interface CaptureRow {
  readonly id: string
  readonly occurredAt: string
  readonly actorName: string
  readonly actorId: string
  readonly action: string
  readonly outcome: string
  readonly reason: string | null
  readonly details: Readonly<Record<string, unknown>>
}

export interface DiagnosticsPageData {
  readonly facts: ProcessFacts
  readonly csrfToken: string
  /** The capture running now, in words, if any. */
  readonly running: string | undefined
  readonly heapSnapshotInSeconds: number
  readonly limits: { readonly minSeconds: number; readonly maxSeconds: number; readonly cooldownSeconds: number }
  /** The seconds field as sent, what is wrong with it, and why a capture was refused. */
  readonly cpu: {
    readonly seconds: string
    readonly fieldError: string | undefined
    readonly refusal: string | undefined
  }
  readonly heap: { readonly refusal: string | undefined }
  readonly captures: ReadonlyArray<CaptureRow>
  readonly script: string
}

const outcomeTone: Readonly<Record<string, Tone>> = { success: "ok", failure: "warning", denied: "danger" }

const numberOf = (details: Readonly<Record<string, unknown>>, key: string): number | undefined => {
  const value = details[key]
  return typeof value === "number" && Number.isFinite(value) ? value : undefined
}

const capturesTable = (rows: ReadonlyArray<CaptureRow>): Html =>
  table({
    attributes: { id: "diagnostics-captures" },
    rows,
    rowAttributes: (r) => ({ "data-entry": r.id }),
    empty: emptyState({ message: "No capture yet." }),
    columns: [
      {
        header: "Time",
        cell: (r) => {
          const utc = formatTimestamp(new Date(r.occurredAt))
          return html`<time datetime="${r.occurredAt}" title="${utc}">${utc}</time>`
        }
      },
      { header: "What", cell: (r) => (r.action === "diagnostics.cpu_profile" ? "CPU profile" : "Heap snapshot") },
      { header: "By", cell: (r) => html`<span class="named" title="${r.actorId}">${r.actorName}</span>` },
      {
        header: "Duration",
        cell: (r) => {
          const ms = numberOf(r.details, "durationMs")
          return ms === undefined ? "" : ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`
        }
      },
      {
        header: "Size",
        cell: (r) => {
          const bytes = numberOf(r.details, "bytes")
          return bytes === undefined ? "" : formatBytes(bytes)
        }
      },
      {
        header: "Outcome",
        cell: (r) =>
          html`${statusBadge(outcomeTone[r.outcome] ?? "neutral", r.outcome)}${r.reason === null ? "" : html` <small>${r.reason}</small>`}`
      }
    ]
  })

const problem = (id: string, message: string | undefined): Html =>
  message === undefined ? html`` : html`<p role="alert" class="form-error" id="${id}">${message}</p>`

export const diagnosticsPage = (d: DiagnosticsPageData): Html => html`<h1>Diagnostics</h1>
<p>Capture what this process is doing, to open in Chrome DevTools. Each capture is audited; one runs at a time.</p>
${d.running === undefined ? "" : html`<p class="form-error" id="diagnostics-running" role="status">${d.running}</p>`}
${factsTable(
  [
    { label: "Process", value: html`<code>${d.facts.host}</code> pid <code>${d.facts.pid}</code>`, field: "process" },
    { label: "Node.js", value: d.facts.node },
    { label: "Up for", value: formatDuration(d.facts.uptimeSeconds) },
    {
      label: "Memory",
      value: `heap ${formatBytes(d.facts.heapUsedBytes)} of at most ${formatBytes(d.facts.heapLimitBytes)}, resident ${formatBytes(d.facts.rssBytes)}`,
      field: "memory"
    }
  ],
  { id: "diagnostics-process" }
)}
<div class="captures">
<article id="cpu-profile">
<header><h2>CPU profile</h2></header>
<p>Samples where the process spends its time for the seconds you choose. The download starts when the capture ends.</p>
${problem("cpu-profile-error", d.cpu.refusal)}
<form method="post" action="/admin/diagnostics/cpu-profile" class="capture" data-capture="cpu">
${csrfInput(d.csrfToken)}
${formField({
  id: "cpu-seconds",
  name: "seconds",
  label: `Seconds (${d.limits.minSeconds} to ${d.limits.maxSeconds})`,
  type: "number",
  value: d.cpu.seconds,
  required: true,
  error: d.cpu.fieldError,
  attributes: {
    min: d.limits.minSeconds,
    max: d.limits.maxSeconds,
    step: 1,
    inputmode: "numeric",
    autofocus: d.cpu.fieldError !== undefined
  }
})}
<button type="submit">Capture CPU profile</button>
<p class="capture-status" role="status" data-capture-status></p>
</form>
<p><small>Open it in Chrome DevTools: <strong>Performance</strong> → <em>Load profile…</em> (the <code>.cpuprofile</code> file).</small></p>
</article>
<article id="heap-snapshot">
<header><h2>Heap snapshot</h2></header>
<p>Every object in the JavaScript heap. The process pauses while V8 writes it (about a second per 100 MiB of heap) and needs that much memory again; at most one every ${d.limits.cooldownSeconds} s.</p>
<p><small><strong>It holds every secret in memory</strong> (database password, session and API key secrets): keep the file like a password and delete it when done.</small></p>
${problem("heap-snapshot-error", d.heap.refusal)}
<form method="post" action="/admin/diagnostics/heap-snapshot" class="capture" data-capture="heap">
${csrfInput(d.csrfToken)}
<button type="submit"${d.heapSnapshotInSeconds > 0 ? html` title="The next heap snapshot may start in ${d.heapSnapshotInSeconds} s"` : ""}>Take heap snapshot</button>
<p class="capture-status" role="status" data-capture-status></p>
</form>
<p><small>Open it in Chrome DevTools: <strong>Memory</strong> → <em>Load profile…</em> (the <code>.heapsnapshot</code> file).</small></p>
</article>
</div>
<h2>Latest captures</h2>
${capturesTable(d.captures)}
<p><small>All of them: <a href="/audit?action=diagnostics.*">the Audit Log</a>. The API: <code>POST /api/v1/diagnostics/cpu-profile?seconds=10</code>, <code>POST /api/v1/diagnostics/heap-snapshot</code>.</small></p>
<script src="${d.script}" defer></script>`
