/**
 * Every breaker scope at a glance, as large as on the Circuit Breaker page, with a one-step trip
 * (reason and acknowledgement, no password) for those allowed to trip: what the dashboard shows
 * above everything. `#breaker-summary` re-fetches itself (`/breaker/summary`, served by the
 * circuit-breaker module) whenever the page's live connection reports a change; a trip posted from
 * it is answered with `#breaker-summary-console` (the summary and the outcome of the trip).
 */

import { formatTimestamp } from "../../../../views/format.ts"
import { type Html, html } from "../../../../views/html.ts"
import type { BreakerView } from "../../../core/contracts/circuit-breaker/model.ts"
import { type FormProblem, problemMessage, tripForm } from "./forms.ts"
import { breakerReading, breakerStateBox } from "./state.ts"

/** Where the summary re-fetches itself. */
export const SUMMARY_PATH = "/breaker/summary"

export interface BreakerSummaryData {
  /** Every scope, `global` first. */
  readonly scopes: ReadonlyArray<BreakerView>
  readonly canTrip: boolean
  readonly csrfToken: string
  readonly now: number
  /** A refused trip, shown next to its form with the reason typed. */
  readonly problem: FormProblem | undefined
}

export interface BreakerSummaryConsoleData extends BreakerSummaryData {
  /** The outcome of the user's trip, kept while the summary refreshes underneath. */
  readonly notice: string | undefined
}

const shorten = (text: string, max: number) => (text.length <= max ? text : `${text.slice(0, max - 1)}…`)

/** Who halted it, when and why, in one line. */
const tripLine = (v: BreakerView): Html => {
  if (v.state !== "TRIPPED" || v.tripped_at === null) return html``
  const when = Date.parse(v.tripped_at)
  return html`<p class="breaker-tile-why"><small>Tripped ${Number.isNaN(when) ? v.tripped_at : html`<time datetime="${v.tripped_at}">${formatTimestamp(when)}</time>`}${v.tripped_by === null ? "" : html` by <strong>${v.tripped_by.name}</strong>`}${v.trip_reason === null ? "" : html`: <q data-field="trip-reason">${shorten(v.trip_reason, 200)}</q>`}</small></p>`
}

const tile = (v: BreakerView, d: BreakerSummaryData): Html => {
  const r = breakerReading(v, d.now)
  const problem = d.problem !== undefined && d.problem.scope === v.scope ? d.problem : undefined
  const canTrip = d.canTrip && v.state !== "TRIPPED"
  return html`<article class="breaker-tile tone-${r.tone}" id="tile-${v.scope}" data-scope="${v.scope}" data-state="${v.state}" data-effective-state="${v.effective_state}">
<header><h3>${v.scope}</h3></header>
${breakerStateBox(v, d.now)}
${v.warning === null ? "" : html`<p class="breaker-warning" data-field="warning"><strong>Warning:</strong> ${v.warning}</p>`}
${tripLine(v)}
${
  canTrip
    ? html`<details class="breaker-trip-details" id="trip-details-${v.scope}" hx-morph-skip${problem === undefined ? "" : " open"}>
<summary>Trip ${v.scope}…</summary>
${tripForm({ scope: v.scope, csrfToken: d.csrfToken, problem, target: "#breaker-summary-console", summary: true, now: d.now })}
</details>`
    : problem === undefined
      ? ""
      : problemMessage(`trip-${v.scope}`, problem, d.now)
}
</article>`
}

/**
 * The tiles; re-fetched on every breaker change. The morph keeps what is being typed, and skips an
 * open trip form (`hx-morph-skip`) so a change elsewhere never folds it up under the user's hands.
 */
export const breakerSummary = (
  d: BreakerSummaryData
): Html => html`<section id="breaker-summary" aria-labelledby="breaker-summary-title" hx-get="${SUMMARY_PATH}" hx-trigger="breaker-changed from:body" hx-swap="outerMorph" data-live-refresh>
<h2 id="breaker-summary-title">Circuit breaker</h2>
${d.scopes.length === 0 ? html`<p class="breaker-warning">No breaker scope can be read: treat trading as halted.</p>` : ""}
${
  d.problem !== undefined && !d.scopes.some((v) => v.scope === d.problem?.scope)
    ? problemMessage("breaker-summary", d.problem, d.now)
    : ""
}
<div class="breaker-tiles">
${d.scopes.map((v) => tile(v, d))}
</div>
<p><a href="/breaker">Open the Circuit Breaker page</a> for resets, approvals and the history.</p>
</section>`

/** The summary and the outcome of the user's trip: what a trip posted from the summary answers. */
export const breakerSummaryConsole = (d: BreakerSummaryConsoleData): Html => html`<div id="breaker-summary-console">
<div id="breaker-summary-notice">${d.notice === undefined ? "" : html`<p role="status" class="notice" data-field="notice">${d.notice}</p>`}</div>
${breakerSummary(d)}
</div>`
