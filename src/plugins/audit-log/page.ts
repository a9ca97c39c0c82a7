/**
 * The Audit Log page: the filters in one compact row (actor and action pickers, outcome, a
 * date-time range in the viewer's time zone; resource filters folded away), the entries newest
 * first, a link to older ones and a CSV export of the same filters. A bad filter is marked at its
 * field, with the form as it was sent. People are shown by name with their id on hover; times are
 * UTC in `<time datetime>`, which the page's script rewrites in the viewer's time zone (UTC stays
 * in the title).
 */
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

export interface Person {
  readonly id: string
  readonly name: string
  readonly email: string
}

export interface KnownActor {
  readonly type: string
  readonly id: string
  readonly name: string
}

export interface AuditLogData {
  /** The filters as the form shows them (pickers' values in the filter's time zone). */
  readonly form: Readonly<Record<string, string>>
  /** Problems by field, shown under it; the entries are not listed while there are any. */
  readonly errors: Readonly<Record<string, string>>
  /** The query string of the current filters (for the export and the next page), without the cursor. */
  readonly query: string
  readonly entries: ReadonlyArray<AuditLogEntry>
  readonly nextCursor: string | undefined
  /** Everyone who can sign in, for the actor picker and for names in the table. */
  readonly people: ReadonlyArray<Person>
  /** Other actors (API keys, system, anonymous) seen in the newest entries. */
  readonly actors: ReadonlyArray<KnownActor>
  /** Actions seen in the newest entries. */
  readonly actions: ReadonlyArray<string>
  /** The page's script (local times, the viewer's time zone). */
  readonly script: string
}

const outcomeTone: Readonly<Record<string, Tone>> = { success: "ok", failure: "warning", denied: "danger" }

const ACTOR_TYPES: Readonly<Record<string, string>> = {
  user: "user",
  api_key: "API key",
  system: "system",
  anonymous: "anonymous"
}

/** A name with the id it stands for on hover. */
const named = (name: string, id: string, kind: string): Html =>
  html`<span class="named" title="${kind} ${id}">${name}</span>`

/** UTC in the markup (and on hover); the script shows it in the viewer's zone. */
const time = (iso: string): Html => {
  const utc = formatTimestamp(new Date(iso))
  return html`<time datetime="${iso}" title="${utc}" data-local>${utc}</time>`
}

const entriesTable = (d: AuditLogData): Html => {
  const people = new Map(d.people.map((p) => [p.id, p]))
  return table({
    label: "Audit entries",
    attributes: { id: "audit-entries" },
    rows: d.entries,
    rowAttributes: (e) => ({ "data-entry": e.id }),
    empty: emptyState({
      message: "No entries match.",
      attributes: { id: "audit-empty" },
      ...(d.query === "" ? {} : { action: { label: "Clear the filters", href: "/audit" } })
    }),
    columns: [
      { header: "#", cell: (e) => e.id },
      { header: "Time", cell: (e) => time(e.occurredAt) },
      {
        header: "Actor",
        cell: (e) => named(e.actorName, e.actorId, ACTOR_TYPES[e.actorType] ?? e.actorType),
        cellAttributes: () => ({ "data-field": "actor" })
      },
      { header: "Action", cell: (e) => html`<code>${e.action}</code>` },
      {
        header: "Resource",
        cell: (e) => {
          const person = e.resourceType === "user" && e.resourceId !== null ? people.get(e.resourceId) : undefined
          return html`${e.resourceType}${
            e.resourceId === null
              ? ""
              : person === undefined
                ? html` <code>${e.resourceId}</code>`
                : html` ${named(person.name, person.id, "user")}`
          }`
        }
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
}

type Option = { readonly value: string; readonly label: string }

/** `<option>`s, the selected one marked; a value not among them (from a link) is kept as its own option. */
const options = (
  groups: ReadonlyArray<readonly [string, ReadonlyArray<Option>]>,
  selected: string,
  any: string
): Html => {
  const known = groups.some(([, opts]) => opts.some((o) => o.value === selected))
  const option = (o: Option) =>
    html`<option value="${o.value}"${o.value === selected ? html` selected` : ""}>${o.label}</option>`
  return html`<option value=""${selected === "" ? html` selected` : ""}>${any}</option>
${known || selected === "" ? "" : html`<option value="${selected}" selected>${selected}</option>`}
${groups
  .filter(([, opts]) => opts.length > 0)
  .map(([label, opts]) => html`<optgroup label="${label}">${opts.map(option)}</optgroup>`)}`
}

const fieldError = (id: string, error: string | undefined): Html =>
  error === undefined ? html`` : html`<small><span id="${id}-error" class="field-error">${error}</span></small>`

const described = (id: string, error: string | undefined, hint?: string): Html => {
  const ids = [error === undefined ? "" : `${id}-error`, hint ?? ""].filter((s) => s !== "").join(" ")
  return html`${error === undefined ? "" : html` aria-invalid="true"`}${ids === "" ? "" : html` aria-describedby="${ids}"`}`
}

const actorPicker = (d: AuditLogData): Html => {
  const byType = (type: string) =>
    d.actors.filter((a) => a.type === type).map((a) => ({ value: a.id, label: a.name === a.id ? a.id : `${a.name}` }))
  const people = d.people.map((p) => ({ value: p.id, label: p.name === p.email ? p.email : `${p.name} (${p.email})` }))
  const error = d.errors.actor
  return html`<div class="filter">
<label for="audit-actor">Actor</label>
<select id="audit-actor" name="actor"${described("audit-actor", error)}>
${options(
  [
    ["People", people],
    ["API keys", byType("api_key")],
    ["System", [...byType("system"), ...byType("anonymous")]]
  ],
  d.form.actor ?? "",
  "Anyone"
)}
</select>
${fieldError("audit-actor", error)}
</div>`
}

const actionPicker = (d: AuditLogData): Html => {
  const namespaces = [...new Set(d.actions.filter((a) => a.includes(".")).map((a) => a.slice(0, a.indexOf("."))))]
  const groups = namespaces.map(
    (ns) =>
      [
        ns,
        [
          { value: `${ns}.*`, label: `every ${ns}.* action` },
          ...d.actions.filter((a) => a.startsWith(`${ns}.`)).map((a) => ({ value: a, label: a }))
        ]
      ] as const
  )
  const plain = d.actions.filter((a) => !a.includes(".")).map((a) => ({ value: a, label: a }))
  const error = d.errors.action
  return html`<div class="filter">
<label for="audit-action">Action</label>
<select id="audit-action" name="action"${described("audit-action", error)}>
${options([...groups, ["other", plain]], d.form.action ?? "", "Any")}
</select>
${fieldError("audit-action", error)}
</div>`
}

const outcomePicker = (d: AuditLogData): Html => html`<div class="filter filter-short">
${selectField({
  id: "audit-outcome",
  name: "outcome",
  label: "Outcome",
  options: ["", "success", "failure", "denied"].map((o) => ({ value: o, label: o === "" ? "Any" : o })),
  selected: d.form.outcome ?? "",
  error: d.errors.outcome
})}
</div>`

const timePicker = (d: AuditLogData, name: "from" | "to", label: string): Html => {
  const value = d.form[name] ?? ""
  const error = d.errors[name]
  // A picker drops a value it cannot show: then say what was given next to the problem.
  const shown = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/.test(value)
  const said = error === undefined || value === "" || shown ? error : `${error} (given: ${value})`
  return html`<div class="filter filter-time">
<label for="audit-${name}">${label}</label>
<input type="datetime-local" id="audit-${name}" name="${name}" value="${value}"${/:\d{2}:\d{2}/.test(value) ? html` step="1"` : ""}${described(`audit-${name}`, said, "audit-tz-hint")}>
${fieldError(`audit-${name}`, said)}
</div>`
}

export const auditLogPage = (d: AuditLogData): Html => {
  const invalid = Object.keys(d.errors).length > 0
  const zone = d.form.tz ?? ""
  const moreOpen = (d.form.resourceType ?? "") !== "" || (d.form.resourceId ?? "") !== "" || "resourceType" in d.errors
  return html`<h1>Audit Log</h1>
<form method="get" action="/audit" class="audit-filters" id="audit-filters"${invalid ? html` aria-describedby="audit-filters-error"` : ""}>
${
  invalid
    ? html`<p role="alert" class="form-error" id="audit-filters-error">Some filters are not valid: see the fields marked below.${
        d.errors.form === undefined ? "" : html` ${d.errors.form}`
      }</p>`
    : ""
}
<div class="filter-row">
${actorPicker(d)}
${actionPicker(d)}
${outcomePicker(d)}
${timePicker(d, "from", "From")}
${timePicker(d, "to", "To")}
<div class="filter filter-buttons"><button type="submit">Filter</button> <a href="/audit">Clear</a></div>
</div>
<input type="hidden" name="tz" value="${zone}" data-tz>
<p class="filter-hint"><small id="audit-tz-hint" data-tz-hint>${
    zone === "" || zone === "UTC" ? "Times are in UTC." : `Times are in ${zone}.`
  }</small></p>
<details class="more-filters"${moreOpen ? html` open` : ""}><summary>Resource filters</summary>
<div class="filter-row">
<div class="filter">${formField({ id: "audit-resourceType", name: "resourceType", label: "Resource type", value: d.form.resourceType ?? "", error: d.errors.resourceType, attributes: { placeholder: "e.g. user, breaker_scope" } })}</div>
<div class="filter">${formField({ id: "audit-resourceId", name: "resourceId", label: "Resource id", value: d.form.resourceId ?? "", error: d.errors.resourceId })}</div>
</div>
</details>
</form>
${
  invalid
    ? html`<p id="audit-invalid">Fix the marked filters to see the entries.</p>`
    : html`<p class="audit-actions"><a href="/audit/export.csv${d.query === "" ? "" : `?${d.query}`}" download>Export CSV</a> <small>(every entry matching these filters)</small></p>
${entriesTable(d)}
${
  d.nextCursor === undefined
    ? ""
    : html`<p><a id="audit-older" href="/audit?${d.query === "" ? "" : `${d.query}&`}cursor=${d.nextCursor}">Older entries →</a></p>`
}`
}
<script src="${d.script}" defer></script>`
}
