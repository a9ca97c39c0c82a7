/** The supervised fibers as a table: state, restarts, last success, last failure. */
import { formatTimestamp } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"

export interface FiberRow {
  readonly name: string
  readonly state: string
  readonly restarts: number
  readonly lastSuccessAt: number | undefined
  readonly lastFailure: { readonly at: number; readonly message: string } | undefined
}

export const fibersTable = (fibers: ReadonlyArray<FiberRow>): Html =>
  fibers.length === 0
    ? html`<p>No background fibers are running.</p>`
    : html`<table class="compact" id="fibers">
<thead><tr><th>Fiber</th><th>State</th><th>Restarts</th><th>Last success</th><th>Last failure</th></tr></thead>
<tbody>
${fibers.map(
  (f) => html`<tr data-fiber="${f.name}">
<td><code>${f.name}</code></td>
<td><span class="status ${f.state}">${f.state}</span></td>
<td>${f.restarts}</td>
<td>${formatTimestamp(f.lastSuccessAt)}</td>
<td>${f.lastFailure === undefined ? "—" : html`${formatTimestamp(f.lastFailure.at)}: ${f.lastFailure.message}`}</td>
</tr>`
)}
</tbody>
</table>`
