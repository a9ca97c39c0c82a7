/** The Audit Log page: filters, the entries newest first, a link to older ones and a CSV export. */
import { emptyState } from "../../../views/components/empty-state.ts"
import { formField, selectField } from "../../../views/components/form-field.ts"
import { statusBadge, type Tone } from "../../../views/components/status-badge.ts"
import { table } from "../../../views/components/table.ts"
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

const field = (name: string, label: string, value: string | undefined, placeholder?: string) =>
  formField({ id: `audit-${name}`, name, label, value: value ?? "", attributes: { placeholder } })

const outcomeTone: Readonly<Record<string, Tone>> = { success: "ok", failure: "warning", denied: "danger" }

const entriesTable = (d: AuditLogData): Html =>
  table({
    attributes: { id: "audit-entries" },
    rows: d.entries,
    rowAttributes: (e) => ({ "data-entry": e.id }),
    empty: emptyState({ message: "No entries match.", attributes: { id: "audit-empty" } }),
    columns: [
      { header: "#", cell: (e) => e.id },
      {
        header: "Time",
        cell: (e) => html`<time datetime="${e.occurredAt}">${formatTimestamp(new Date(e.occurredAt))}</time>`
      },
      { header: "Actor", cell: (e) => e.actorName, cellAttributes: (e) => ({ title: `${e.actorType}: ${e.actorId}` }) },
      { header: "Action", cell: (e) => html`<code>${e.action}</code>` },
      {
        header: "Resource",
        cell: (e) => html`${e.resourceType}${e.resourceId === null ? "" : html` <code>${e.resourceId}</code>`}`
      },
      { header: "Outcome", cell: (e) => statusBadge(outcomeTone[e.outcome] ?? "neutral", e.outcome) },
      {
        header: "Reason",
        cell: (e) =>
          html`${e.reason ?? ""}${
            Object.keys(e.details).length === 0
              ? ""
              : html`<details><summary>details</summary><pre>${JSON.stringify(e.details, null, 2)}</pre></details>`
          }`
      },
      {
        header: "From",
        cell: (e) =>
          html`<small>${e.clientAddress ?? ""}${e.requestId === null ? "" : html`<br><code>${e.requestId}</code>`}</small>`
      }
    ]
  })

export const auditLogPage = (d: AuditLogData): Html => {
  const { cursor: _cursor, ...filters } = d.filter
  return html`<h1>Audit Log</h1>
<form method="get" action="/audit" class="audit-filters">
<fieldset class="grid">
${field("actor", "Actor", d.filter.actor, "user id, key id or name")}
${field("action", "Action", d.filter.action, "e.g. auth.* or authz_denied")}
${field("resourceType", "Resource type", d.filter.resourceType)}
${field("resourceId", "Resource id", d.filter.resourceId)}
${selectField({
  id: "audit-outcome",
  name: "outcome",
  label: "Outcome",
  options: ["", "success", "failure", "denied"].map((o) => ({ value: o, label: o === "" ? "any" : o })),
  selected: d.filter.outcome ?? ""
})}
${field("from", "From (UTC)", d.filter.from, "2026-01-31T00:00:00Z")}
${field("to", "To (UTC)", d.filter.to, "2026-02-01T00:00:00Z")}
</fieldset>
<button type="submit">Filter</button> <a href="/audit">Clear</a> · <a href="/audit/export.csv?${query(filters)}" download>Export CSV</a>
</form>
${entriesTable(d)}
${d.nextCursor === undefined ? "" : html`<p><a id="audit-older" href="/audit?${query({ ...filters, cursor: d.nextCursor })}">Older entries →</a></p>`}`
}
