/**
 * The Circuit Breaker page: the page an operator opens in an incident. Each scope's state is shown
 * large and in words (a state that cannot be read is shown as halted: fail closed; so is every
 * state while the page's live connection is lost for longer than the staleness limit), with who
 * tripped it, when and why; the forms ask for a reason, an explicit acknowledgement and, for a
 * reset or an approval when the sign-in is old, the password (a trip never asks for it). Those who
 * may change the system configuration add scopes here. `#breaker-panel` is also served alone: the
 * page re-fetches it whenever the live connection reports a change, so it stays current without a
 * reload. The state box and the forms are shared with the dashboard (views/ in this folder).
 */

import { emptyState } from "../../../views/components/empty-state.ts"
import { liveIndicator } from "../../../views/components/live-indicator.ts"
import { statusBadge } from "../../../views/components/status-badge.ts"
import { table } from "../../../views/components/table.ts"
import { csrfInput } from "../../../views/csrf.ts"
import { formatDuration, formatTimestamp } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"
import {
  type BreakerSettings,
  type BreakerView,
  RESET_INTERVAL_SECONDS,
  type ResetRequest,
  type Transition
} from "../../core/contracts/circuit-breaker/model.ts"
import {
  acknowledgeField,
  type BreakerAction,
  type FormProblem,
  formAttributes,
  invalid,
  problemMessage,
  reasonField,
  scopePath,
  scopeWords,
  submitButton,
  tripForm
} from "./views/forms.ts"
import { breakerReading, breakerStateBox, countdown, timeOf } from "./views/state.ts"

export type { BreakerAction, FormProblem }

export interface BreakerPanelData {
  readonly scopes: ReadonlyArray<BreakerView>
  /** The most recent transitions of every scope, newest first. */
  readonly history: ReadonlyArray<Transition>
  readonly historyError: string | undefined
  readonly pending: ReadonlyArray<ResetRequest>
  readonly pendingError: string | undefined
  readonly settings: BreakerSettings | undefined
  readonly canTrip: boolean
  readonly canReset: boolean
  /** May add scopes (MANAGE_SYSTEM_CONFIG). */
  readonly canCreateScope?: boolean
  /** The session signed in more than the re-authentication window ago: forms ask for the password. */
  readonly passwordNeeded: boolean
  readonly csrfToken: string
  /** The signed-in person's user id: their own reset requests (by any key of theirs too) get no Approve button. */
  readonly personId: string
  readonly now: number
  readonly problem: FormProblem | undefined
}

export interface BreakerConsoleData extends BreakerPanelData {
  /** The outcome of the user's last action, kept while the panel refreshes underneath. */
  readonly notice: string | undefined
}

export interface BreakerPageData extends BreakerConsoleData {
  /** The server-sent events the page listens to. */
  readonly streamUrl: string
  /** How long the live connection may be lost before every display says UNKNOWN (default: the layout's). */
  readonly stalenessSeconds?: number
  readonly assets: { readonly css: string; readonly js: string }
}

const CONSOLE = "#breaker-console"

const actorName = (actor: { readonly type: string; readonly name: string } | null): Html =>
  actor === null
    ? html`—`
    : html`${actor.name}${actor.type === "user" ? "" : html` <small>(${actor.type.replace("_", " ")})</small>`}`

const problemFor = (d: BreakerPanelData, scope: string, action: BreakerAction, requestId?: string) => {
  const p = d.problem
  if (p === undefined || p.scope !== scope || p.action !== action) return undefined
  return requestId === undefined || p.requestId === requestId ? p : undefined
}

const passwordField = (id: string, d: BreakerPanelData, problem: FormProblem | undefined) =>
  d.passwordNeeded || problem?.passwordNeeded === true
    ? html`<label for="${id}-password">Your password (you signed in more than 5 minutes ago)</label>
<input type="password" id="${id}-password" name="password" required autocomplete="current-password">`
    : ""

/** Milliseconds until the reset rate limit (one per minute per scope) lets this scope be reset again. */
const resetWaitMs = (v: BreakerView, now: number): number | undefined => {
  if (v.reset_at === null) return undefined
  const last = Date.parse(v.reset_at)
  if (Number.isNaN(last)) return undefined
  const wait = last + RESET_INTERVAL_SECONDS * 1000 - now
  return wait > 0 ? wait : undefined
}

const resetForm = (v: BreakerView, d: BreakerPanelData): Html => {
  const id = `reset-${v.scope}`
  const problem = problemFor(d, v.scope, "reset")
  const quiet = d.settings === undefined ? undefined : formatDuration(d.settings.quiet_period_seconds)
  const known = resetWaitMs(v, d.now)
  const refused = problem?.retryAfterSeconds === undefined ? undefined : problem.retryAfterSeconds * 1000
  const wait = Math.max(known ?? 0, refused ?? 0)
  return html`<form ${formAttributes(`${scopePath(v.scope)}/reset`, id, "reset", CONSOLE)} class="breaker-form breaker-reset-form">
${csrfInput(d.csrfToken)}
${v.version === null ? "" : html`<input type="hidden" name="version" value="${v.version}">`}
<fieldset>
<legend>Reset <strong>${v.scope}</strong>: allow trading again</legend>
<p><small>${quiet === undefined ? "" : `After a reset ${v.scope} stays in QUIET_PERIOD (trading allowed) for ${quiet}, then OPEN. `}One reset per minute per scope.${
    d.settings?.reset_approvals === 2
      ? " Two operators are required: your reset becomes a request that another operator must approve within 15 minutes."
      : ""
  }</small></p>
${known === undefined || refused !== undefined ? "" : html`<p class="breaker-wait" data-field="reset-wait">${v.scope} was reset less than a minute ago: the next reset is possible in ${countdown(d.now + known, d.now)}.</p>`}
${reasonField(id, "Reason (at least 20 characters): why is it safe to trade again?", problem)}
${acknowledgeField(id, `I have checked that it is safe to resume trading ${scopeWords(v.scope)}.`, problem)}
${passwordField(id, d, problem)}
</fieldset>
${problemMessage(id, problem, d.now)}
${submitButton(`${d.settings?.reset_approvals === 2 ? "Request reset of" : "Reset"} ${v.scope}`, "breaker-reset", wait)}
</form>`
}

const facts = (v: BreakerView): Html => {
  const tripped = v.state === "TRIPPED"
  const details = v.trip_details === null || Object.keys(v.trip_details).length === 0 ? undefined : v.trip_details
  return html`<dl class="breaker-facts">
${
  v.tripped_at === null
    ? ""
    : html`<dt>${tripped ? "Tripped" : "Last tripped"}</dt>
<dd data-field="tripped">${timeOf(v.tripped_at)} by <span data-field="tripped-by">${actorName(v.tripped_by)}</span>${v.trip_source === null ? "" : html` · <span data-field="trip-source">${v.trip_source}</span>`}</dd>
<dt>${tripped ? "Why" : "Last trip reason"}</dt>
<dd><blockquote class="breaker-reason" data-field="trip-reason">${v.trip_reason ?? "—"}</blockquote></dd>
${details === undefined ? "" : html`<dt>Details</dt><dd><code data-field="trip-details">${JSON.stringify(details).slice(0, 1000)}</code></dd>`}`
}
${v.reset_at === null ? "" : html`<dt>Last reset</dt><dd data-field="reset">${timeOf(v.reset_at)} by ${actorName(v.reset_by)}</dd>`}
<dt>Trips today (UTC)</dt><dd data-field="trip-count">${v.trip_count_today ?? "—"}</dd>
<dt>Version</dt><dd data-field="version">${v.version ?? "—"} <small>updated ${timeOf(v.updated_at)} · confirmed ${timeOf(v.as_of)}</small></dd>
</dl>`
}

/** A problem whose form is not shown any more (the state changed meanwhile) still gets said. */
const orphanProblem = (v: BreakerView, d: BreakerPanelData, shown: ReadonlyArray<BreakerAction>): Html => {
  const p = d.problem
  if (
    p === undefined ||
    p.scope !== v.scope ||
    p.action === "approve" ||
    p.action === "create" ||
    shown.includes(p.action)
  )
    return html``
  return problemMessage(`${p.action}-${v.scope}`, p, d.now)
}

const scopeCard = (v: BreakerView, d: BreakerPanelData): Html => {
  const r = breakerReading(v, d.now)
  const showTrip = d.canTrip && v.state !== "TRIPPED"
  const showReset = d.canReset && v.state === "TRIPPED"
  const shown: ReadonlyArray<BreakerAction> = [
    ...(showTrip ? ["trip" as const] : []),
    ...(showReset ? ["reset" as const] : [])
  ]
  return html`<article class="breaker-scope tone-${r.tone}" id="scope-${v.scope}" data-scope="${v.scope}" data-state="${v.state}" data-effective-state="${v.effective_state}">
<header><h2>${v.scope}</h2></header>
${breakerStateBox(v, d.now)}
${v.warning === null ? "" : html`<p class="breaker-warning" data-field="warning"><strong>Warning:</strong> ${v.warning}</p>`}
${facts(v)}
${orphanProblem(v, d, shown)}
${showTrip ? tripForm({ scope: v.scope, csrfToken: d.csrfToken, problem: problemFor(d, v.scope, "trip"), target: CONSOLE, now: d.now }) : ""}
${showReset ? resetForm(v, d) : ""}
</article>`
}

/**
 * A new named scope (MANAGE_SYSTEM_CONFIG), OPEN; the password when the sign-in is old. Folded
 * away until wanted; the panel's refresh leaves it as the user has it (`hx-morph-skip`).
 */
const createScopeForm = (d: BreakerPanelData): Html => {
  if (d.canCreateScope !== true) return html``
  const id = "create-scope"
  const problem = d.problem?.action === "create" ? d.problem : undefined
  return html`<details class="breaker-create" id="breaker-create" hx-morph-skip${problem === undefined ? "" : " open"}>
<summary>Add a breaker scope</summary>
<form ${formAttributes("/breaker/scopes", id, "create", CONSOLE)} class="breaker-form breaker-create-form">
${csrfInput(d.csrfToken)}
<label for="${id}-name">Scope name: a venue or a strategy</label>
<input type="text" id="${id}-name" name="scope" required maxlength="63" autocomplete="off" spellcheck="false" value="${problem?.scope ?? ""}"${invalid(problem, "scope")} aria-describedby="${problem === undefined ? "" : `${id}-error `}${id}-hint">
<small id="${id}-hint">1 to 63 characters: a-z, 0-9, '.', '_' or '-', starting with a letter or digit. A new scope starts OPEN and is never deleted; while global is tripped every scope is halted.</small>
${passwordField(id, d, problem)}
${problemMessage(id, problem, d.now)}
<button type="submit">Add scope</button>
</form>
</details>`
}

const approveCell = (r: ResetRequest, d: BreakerPanelData): Html => {
  if (!d.canReset) return html``
  const problem = problemFor(d, r.scope, "approve", r.id)
  const requester = r.requested_by.type === "user" ? r.requested_by.id : r.requested_by.person
  if (requester === d.personId)
    return html`<small>Your request: another operator must approve it.</small>${problemMessage(`approve-${r.id}`, problem, d.now)}`
  const id = `approve-${r.id}`
  return html`<form ${formAttributes(`${scopePath(r.scope)}/approvals/${encodeURIComponent(r.id)}/approve`, id, "approve", CONSOLE)} class="breaker-form breaker-approve-form">
${csrfInput(d.csrfToken)}
${acknowledgeField(id, `I approve this reset: trading resumes ${scopeWords(r.scope)}.`, problem)}
${passwordField(id, d, problem)}
${problemMessage(id, problem, d.now)}
<button type="submit" class="breaker-reset">Approve reset of ${r.scope}</button>
</form>`
}

const approvals = (d: BreakerPanelData): Html => {
  const pending = d.pending.filter((r) => r.status === "pending")
  // An approval refused for a request no longer listed (approved or expired meanwhile).
  const p = d.problem
  const orphan =
    p?.action === "approve" && !pending.some((r) => r.id === p.requestId)
      ? problemMessage(`approve-${p.scope}`, p, d.now)
      : ""
  return html`<section id="breaker-approvals" aria-labelledby="breaker-approvals-title">
<h2 id="breaker-approvals-title">Pending reset approvals</h2>
${d.pendingError === undefined ? "" : html`<p class="breaker-warning">Pending approvals cannot be read: ${d.pendingError}</p>`}
${orphan}
${table({
  label: "Pending reset approvals",
  attributes: { id: "breaker-pending" },
  rows: pending,
  rowAttributes: (r) => ({ "data-request": r.id, "data-scope": r.scope }),
  empty: emptyState({ message: "No reset is waiting for approval.", attributes: { "data-field": "no-approvals" } }),
  columns: [
    { header: "Scope", cell: (r) => html`<code>${r.scope}</code>` },
    { header: "Requested by", cell: (r) => actorName(r.requested_by) },
    { header: "Reason", cell: (r) => r.reason },
    { header: "Requested", cell: (r) => timeOf(r.requested_at) },
    { header: "Expires", cell: (r) => timeOf(r.expires_at) },
    { header: "Approval", hideHeader: true, cell: (r) => approveCell(r, d) }
  ]
})}
</section>`
}

/** A stored state in words and colour; anything but OPEN or QUIET_PERIOD halts trading. */
const stateBadge = (state: string): Html =>
  statusBadge(state === "OPEN" ? "ok" : state === "QUIET_PERIOD" ? "warning" : "danger", state)

const kindLabels: Readonly<Record<Transition["kind"], string>> = {
  trip: "tripped",
  trip_repeated: "tripped again (reason recorded)",
  reset: "reset",
  quiet_period_ended: "quiet period ended",
  reset_requested: "reset requested"
}

const history = (
  d: BreakerPanelData
): Html => html`<section id="breaker-history" aria-labelledby="breaker-history-title">
<h2 id="breaker-history-title">Recent history</h2>
${d.historyError === undefined ? "" : html`<p class="breaker-warning">History cannot be read: ${d.historyError}</p>`}
${table({
  label: "Recent breaker history",
  attributes: { id: "breaker-transitions" },
  rows: d.history,
  rowAttributes: (t) => ({ "data-transition": t.id, "data-kind": t.kind, "data-scope": t.scope }),
  empty: emptyState({ message: "No transitions yet.", attributes: { "data-field": "no-history" } }),
  columns: [
    { header: "When", cell: (t) => timeOf(t.at) },
    { header: "Scope", cell: (t) => html`<code>${t.scope}</code>` },
    { header: "Change", cell: (t) => kindLabels[t.kind] },
    { header: "State", cell: (t) => html`${stateBadge(t.from_state)} → ${stateBadge(t.to_state)}` },
    { header: "By", cell: (t) => actorName(t.actor) },
    { header: "Source", cell: (t) => t.source ?? "" },
    { header: "Reason", cell: (t) => t.reason ?? "" }
  ]
})}
</section>`

/** A refusal for a scope the page does not show (unknown or gone): said at the top. */
const unplacedProblem = (d: BreakerPanelData): Html => {
  const p = d.problem
  if (p === undefined || p.action === "approve" || p.action === "create" || d.scopes.some((v) => v.scope === p.scope))
    return html``
  return problemMessage("breaker", p, d.now)
}

/**
 * The states, pending approvals and history. It re-fetches itself when the page's script reports a
 * change; a morph keeps what the user is typing in a form.
 */
export const breakerPanel = (
  d: BreakerPanelData
): Html => html`<section id="breaker-panel" hx-get="/breaker/panel" hx-trigger="breaker-changed from:body" hx-swap="outerMorph" data-live-refresh>
${unplacedProblem(d)}
<div class="breaker-scopes">
${d.scopes.length === 0 ? html`<p class="breaker-warning">No breaker scope can be read: treat trading as halted.</p>` : ""}
${d.scopes.map((v) => scopeCard(v, d))}
</div>
${createScopeForm(d)}
${approvals(d)}
${history(d)}
</section>`

/** The panel and the outcome of the user's last action: what a form post answers with. */
export const breakerConsole = (d: BreakerConsoleData): Html => html`<div id="breaker-console">
<div id="breaker-notice">${d.notice === undefined ? "" : html`<p role="status" class="notice" data-field="notice">${d.notice}</p>`}</div>
${breakerPanel(d)}
</div>`

export const breakerPage = (d: BreakerPageData): Html => html`<link rel="stylesheet" href="${d.assets.css}">
<h1>Circuit Breaker</h1>
${liveIndicator({ id: "breaker-live", stream: d.streamUrl, stalenessSeconds: d.stalenessSeconds })}
<noscript><p class="breaker-warning">Without JavaScript this page does not update by itself: it shows the state as of ${formatTimestamp(d.now)}. Reload it to see the current state.</p></noscript>
${breakerConsole(d)}
<script src="${d.assets.js}" defer></script>`
