/** The Audit Log page: filters, the entries newest first, a link to older ones and a CSV export. */
import { formatTimestamp } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"

export interface AuditLogEntry {
  readonly id: string
  readonly occurredAt: string
  readonly actorType: string
  readonly actorName: string
  readonly actorId: string
  readonly action: string
  readonly resourceType: string
  readonly resourceId: string | null
  readonly outcome: string
  readonly reason: string | null
  readonly details: Readonly<Record<string, unknown>>
  readonly clientAddress: string | null
  readonly requestId: string | null
}

export interface AuditLogData {
  /** The filters as given, to refill the form and build the links. */
  readonly filter: Readonly<Record<string, string>>
  readonly entries: ReadonlyArray<AuditLogEntry>
  readonly nextCursor: string | undefined
}

const query = (params: Readonly<Record<string, string>>) => new URLSearchParams(Object.entries(params)).toString()

const field = (name: string, label: string, value: string | undefined, type = "text", placeholder = "") =>
  html`<label>${label}<input type="${type}" name="${name}" value="${value ?? ""}" placeholder="${placeholder}"></label>`

const outcomeClass: Record<string, string> = { success: "up", failure: "degraded", denied: "down" }

export const auditLogPage = (d: AuditLogData): Html => {
  const { cursor: _cursor, ...filters } = d.filter
  return html`<h1>Audit Log</h1>
<form method="get" action="/audit" class="audit-filters">
<fieldset class="grid">
${field("actor", "Actor", d.filter.actor, "text", "user id, key id or name")}
${field("action", "Action", d.filter.action, "text", "e.g. auth.* or authz_denied")}
${field("resourceType", "Resource type", d.filter.resourceType)}
${field("resourceId", "Resource id", d.filter.resourceId)}
<label>Outcome<select name="outcome">
${["", "success", "failure", "denied"].map(
  (o) => html`<option value="${o}"${d.filter.outcome === o ? html` selected` : ""}>${o === "" ? "any" : o}</option>`
)}
</select></label>
${field("from", "From (UTC)", d.filter.from, "text", "2026-01-31T00:00:00Z")}
${field("to", "To (UTC)", d.filter.to, "text", "2026-02-01T00:00:00Z")}
</fieldset>
<button type="submit">Filter</button> <a href="/audit">Clear</a> · <a href="/audit/export.csv?${query(filters)}" download>Export CSV</a>
</form>
${
  d.entries.length === 0
    ? html`<p id="audit-empty">No entries match.</p>`
    : html`<table class="compact" id="audit-entries">
<thead><tr><th>#</th><th>Time</th><th>Actor</th><th>Action</th><th>Resource</th><th>Outcome</th><th>Reason</th><th>From</th></tr></thead>
<tbody>
${d.entries.map(
  (e) => html`<tr data-entry="${e.id}">
<td>${e.id}</td>
<td><time datetime="${e.occurredAt}">${formatTimestamp(new Date(e.occurredAt))}</time></td>
<td title="${e.actorType}: ${e.actorId}">${e.actorName}</td>
<td><code>${e.action}</code></td>
<td>${e.resourceType}${e.resourceId === null ? "" : html` <code>${e.resourceId}</code>`}</td>
<td><span class="status ${outcomeClass[e.outcome] ?? "unknown"}">${e.outcome}</span></td>
<td>${e.reason ?? ""}${
    Object.keys(e.details).length === 0
      ? ""
      : html`<details><summary>details</summary><pre>${JSON.stringify(e.details, null, 2)}</pre></details>`
  }</td>
<td><small>${e.clientAddress ?? ""}${e.requestId === null ? "" : html`<br><code>${e.requestId}</code>`}</small></td>
</tr>`
)}
</tbody>
</table>`
}
${d.nextCursor === undefined ? "" : html`<p><a id="audit-older" href="/audit?${query({ ...filters, cursor: d.nextCursor })}">Older entries →</a></p>`}`
}
