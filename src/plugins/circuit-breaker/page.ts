/**
 * The Circuit Breaker page: the page an operator opens in an incident. Each scope's state is shown
 * large and in words (a state that cannot be read is shown as halted: fail closed), with who tripped
 * it, when and why; the forms ask for a reason, an explicit acknowledgement and, for a reset or an
 * approval when the sign-in is old, the password (a trip never asks for it). `#breaker-panel` is also served alone: the page re-fetches it whenever the
 * breaker's event stream reports a change, so it stays current without a reload.
 */

import { emptyState } from "../../../views/components/empty-state.ts"
import { statusBadge } from "../../../views/components/status-badge.ts"
import { table } from "../../../views/components/table.ts"
import { csrfInput } from "../../../views/csrf.ts"
import { formatDuration, formatTimestamp } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"
import type {
  BreakerSettings,
  BreakerView,
  ResetRequest,
  Transition
} from "../../core/contracts/circuit-breaker/model.ts"

export type BreakerAction = "trip" | "reset" | "approve"

/** A refused form submission, shown next to its form with what the user typed (never the password). */
export interface FormProblem {
  readonly scope: string
  readonly action: BreakerAction
  /** The reset request an approval was for. */
  readonly requestId?: string
  readonly message: string
  readonly issues: ReadonlyArray<{ readonly path: string; readonly message: string }>
  readonly reason: string
  /** Re-authentication was refused: show the password field whatever the clock says. */
  readonly passwordNeeded: boolean
}

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
  readonly assets: { readonly css: string; readonly js: string }
}

type Tone = "open" | "quiet" | "tripped" | "unknown"

interface Reading {
  readonly tone: Tone
  readonly headline: string
  readonly label: string
  readonly note: Html | undefined
}

const at = (iso: string | null): Html => {
  if (iso === null) return html`—`
  const date = new Date(iso)
  return Number.isNaN(date.getTime()) ? html`${iso}` : html`<time datetime="${iso}">${formatTimestamp(date)}</time>`
}

const actorName = (actor: { readonly type: string; readonly name: string } | null): Html =>
  actor === null
    ? html`—`
    : html`${actor.name}${actor.type === "user" ? "" : html` <small>(${actor.type.replace("_", " ")})</small>`}`

const scopeWords = (scope: string) => (scope === "global" ? "everywhere (every scope)" : `for ${scope}`)

/** What the operator must believe: halted unless the effective state positively allows trading. */
const readingOf = (v: BreakerView, now: number): Reading => {
  if (v.state === "UNKNOWN" || v.effective_state === "UNKNOWN")
    return {
      tone: "unknown",
      headline: "TRADING HALTED",
      label: "UNKNOWN",
      note: html`<strong>State unknown — treat as tripped.</strong>`
    }
  const haltedElsewhere = v.halted_by !== null && v.halted_by !== v.scope
  if (v.effective_state === "TRIPPED" || v.state === "TRIPPED" || !v.trading_allowed)
    return {
      tone: "tripped",
      headline: "TRADING HALTED",
      label: v.effective_state,
      note: haltedElsewhere
        ? html`Halted by the <strong>${v.halted_by}</strong> breaker: while global is tripped every scope is halted.
This scope's own state is <code>${v.state}</code>.`
        : undefined
    }
  if (v.effective_state === "QUIET_PERIOD") {
    const until = v.quiet_until === null ? undefined : new Date(v.quiet_until).getTime()
    const left = until === undefined || Number.isNaN(until) ? "" : ` (in ${formatDuration((until - now) / 1000)})`
    return {
      tone: "quiet",
      headline: "QUIET PERIOD",
      label: "QUIET_PERIOD",
      note: html`Trading allowed after a reset; the quiet period ends at <span data-field="quiet-until">${at(v.quiet_until)}</span>${left}, then <code>OPEN</code>.`
    }
  }
  return { tone: "open", headline: "TRADING ALLOWED", label: "OPEN", note: undefined }
}

const problemFor = (d: BreakerPanelData, scope: string, action: BreakerAction, requestId?: string) => {
  const p = d.problem
  if (p === undefined || p.scope !== scope || p.action !== action) return undefined
  return requestId === undefined || p.requestId === requestId ? p : undefined
}

const hasIssue = (problem: FormProblem | undefined, field: string) =>
  problem?.issues.some((i) => i.path === field) === true

const invalid = (problem: FormProblem | undefined, field: string) =>
  hasIssue(problem, field) ? html` aria-invalid="true"` : ""

const fieldNames: Readonly<Record<string, string>> = {
  reason: "Reason",
  acknowledge: "Acknowledgement",
  password: "Password",
  version: "Version",
  scope: "Scope",
  id: "Reset request"
}

/** The refusal next to its form: each field's problem when the input was wrong, else the message. */
const problemMessage = (id: string, problem: FormProblem | undefined): Html =>
  problem === undefined
    ? html``
    : html`<div class="form-error" role="alert" id="${id}-error" data-field="error">
${
  problem.issues.length > 0
    ? html`<p>Not accepted:</p><ul>${problem.issues.map(
        (i) => html`<li>${i.path === "" ? "" : html`${fieldNames[i.path] ?? i.path}: `}${i.message}</li>`
      )}</ul>`
    : html`<p>${problem.message}</p>`
}
</div>`

const describedBy = (id: string, problem: FormProblem | undefined) =>
  problem === undefined ? "" : html` aria-describedby="${id}-error"`

const reasonField = (
  id: string,
  label: string,
  problem: FormProblem | undefined
) => html`<label for="${id}-reason">${label}</label>
<textarea id="${id}-reason" name="reason" rows="3" required minlength="20" maxlength="2000"${invalid(problem, "reason")}${describedBy(id, problem)}>${problem?.reason ?? ""}</textarea>`

const acknowledgeField = (id: string, text: string, problem: FormProblem | undefined) =>
  html`<label for="${id}-acknowledge"><input type="checkbox" id="${id}-acknowledge" name="acknowledge" required${invalid(problem, "acknowledge")}> ${text}</label>`

const passwordField = (id: string, d: BreakerPanelData, problem: FormProblem | undefined) =>
  d.passwordNeeded || problem?.passwordNeeded === true
    ? html`<label for="${id}-password">Your password (you signed in more than 5 minutes ago)</label>
<input type="password" id="${id}-password" name="password" required autocomplete="current-password">`
    : ""

/** htmx posts the form and swaps the console; without JavaScript it is an ordinary form post. */
const formAttributes = (action: string, id: string, kind: BreakerAction) =>
  html`method="post" action="${action}" hx-post="${action}" hx-target="#breaker-console" hx-swap="outerHTML" hx-disable="find button" id="${id}" data-form="${kind}"`

const scopePath = (scope: string) => `/breaker/${encodeURIComponent(scope)}`

const tripForm = (v: BreakerView, d: BreakerPanelData): Html => {
  const id = `trip-${v.scope}`
  const problem = problemFor(d, v.scope, "trip")
  return html`<form ${formAttributes(`${scopePath(v.scope)}/trip`, id, "trip")} class="breaker-form breaker-trip-form">
${csrfInput(d.csrfToken)}
<fieldset>
<legend>Trip <strong>${v.scope}</strong>: halt trading</legend>
${reasonField(id, "Reason (at least 20 characters): what is wrong?", problem)}
${acknowledgeField(id, `I understand that this halts trading ${scopeWords(v.scope)} until it is reset.`, problem)}
</fieldset>
${problemMessage(id, problem)}
<button type="submit" class="breaker-trip">Trip ${v.scope}</button>
</form>`
}

const resetForm = (v: BreakerView, d: BreakerPanelData): Html => {
  const id = `reset-${v.scope}`
  const problem = problemFor(d, v.scope, "reset")
  const quiet = d.settings === undefined ? undefined : formatDuration(d.settings.quiet_period_seconds)
  return html`<form ${formAttributes(`${scopePath(v.scope)}/reset`, id, "reset")} class="breaker-form breaker-reset-form">
${csrfInput(d.csrfToken)}
${v.version === null ? "" : html`<input type="hidden" name="version" value="${v.version}">`}
<fieldset>
<legend>Reset <strong>${v.scope}</strong>: allow trading again</legend>
<p><small>${quiet === undefined ? "" : `After a reset ${v.scope} stays in QUIET_PERIOD for ${quiet}, then OPEN. `}One reset per minute per scope.${
    d.settings?.reset_approvals === 2
      ? " Two operators are required: your reset becomes a request that another operator must approve within 15 minutes."
      : ""
  }</small></p>
${reasonField(id, "Reason (at least 20 characters): why is it safe to trade again?", problem)}
${acknowledgeField(id, `I have checked that it is safe to resume trading ${scopeWords(v.scope)}.`, problem)}
${passwordField(id, d, problem)}
</fieldset>
${problemMessage(id, problem)}
<button type="submit" class="breaker-reset">${d.settings?.reset_approvals === 2 ? "Request reset of" : "Reset"} ${v.scope}</button>
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
<dd data-field="tripped">${at(v.tripped_at)} by <span data-field="tripped-by">${actorName(v.tripped_by)}</span>${v.trip_source === null ? "" : html` · <span data-field="trip-source">${v.trip_source}</span>`}</dd>
<dt>${tripped ? "Why" : "Last trip reason"}</dt>
<dd><blockquote class="breaker-reason" data-field="trip-reason">${v.trip_reason ?? "—"}</blockquote></dd>
${details === undefined ? "" : html`<dt>Details</dt><dd><code data-field="trip-details">${JSON.stringify(details).slice(0, 1000)}</code></dd>`}`
}
${v.reset_at === null ? "" : html`<dt>Last reset</dt><dd data-field="reset">${at(v.reset_at)} by ${actorName(v.reset_by)}</dd>`}
<dt>Trips today (UTC)</dt><dd data-field="trip-count">${v.trip_count_today ?? "—"}</dd>
<dt>Version</dt><dd data-field="version">${v.version ?? "—"} <small>updated ${at(v.updated_at)} · confirmed ${at(v.as_of)}</small></dd>
</dl>`
}

/** A problem whose form is not shown any more (the state changed meanwhile) still gets said. */
const orphanProblem = (v: BreakerView, d: BreakerPanelData, shown: ReadonlyArray<BreakerAction>): Html => {
  const p = d.problem
  if (p === undefined || p.scope !== v.scope || p.action === "approve" || shown.includes(p.action)) return html``
  return problemMessage(`${p.action}-${v.scope}`, p)
}

const scopeCard = (v: BreakerView, d: BreakerPanelData): Html => {
  const r = readingOf(v, d.now)
  const showTrip = d.canTrip && v.state !== "TRIPPED"
  const showReset = d.canReset && v.state === "TRIPPED"
  const shown: ReadonlyArray<BreakerAction> = [
    ...(showTrip ? ["trip" as const] : []),
    ...(showReset ? ["reset" as const] : [])
  ]
  return html`<article class="breaker-scope tone-${r.tone}" id="scope-${v.scope}" data-scope="${v.scope}" data-state="${v.state}" data-effective-state="${v.effective_state}">
<header><h2>${v.scope}</h2></header>
<div class="breaker-state" role="status" aria-live="polite" aria-atomic="true" aria-label="${v.scope} breaker state">
<p class="breaker-headline" data-field="headline">${r.headline}</p>
<p class="breaker-state-name">State: <strong data-field="state">${r.label}</strong></p>
${r.note === undefined ? "" : html`<p class="breaker-note" data-field="note">${r.note}</p>`}
</div>
${v.warning === null ? "" : html`<p class="breaker-warning" data-field="warning"><strong>Warning:</strong> ${v.warning}</p>`}
${facts(v)}
${orphanProblem(v, d, shown)}
${showTrip ? tripForm(v, d) : ""}
${showReset ? resetForm(v, d) : ""}
</article>`
}

const approveCell = (r: ResetRequest, d: BreakerPanelData): Html => {
  if (!d.canReset) return html``
  const problem = problemFor(d, r.scope, "approve", r.id)
  const requester = r.requested_by.type === "user" ? r.requested_by.id : r.requested_by.person
  if (requester === d.personId)
    return html`<small>Your request: another operator must approve it.</small>${problemMessage(`approve-${r.id}`, problem)}`
  const id = `approve-${r.id}`
  return html`<form ${formAttributes(`${scopePath(r.scope)}/approvals/${encodeURIComponent(r.id)}/approve`, id, "approve")} class="breaker-form breaker-approve-form">
${csrfInput(d.csrfToken)}
${acknowledgeField(id, `I approve this reset: trading resumes ${scopeWords(r.scope)}.`, problem)}
${passwordField(id, d, problem)}
${problemMessage(id, problem)}
<button type="submit" class="breaker-reset">Approve reset of ${r.scope}</button>
</form>`
}

const approvals = (d: BreakerPanelData): Html => {
  const pending = d.pending.filter((r) => r.status === "pending")
  // An approval refused for a request no longer listed (approved or expired meanwhile).
  const p = d.problem
  const orphan =
    p?.action === "approve" && !pending.some((r) => r.id === p.requestId) ? problemMessage(`approve-${p.scope}`, p) : ""
  return html`<section id="breaker-approvals" aria-labelledby="breaker-approvals-title">
<h2 id="breaker-approvals-title">Pending reset approvals</h2>
${d.pendingError === undefined ? "" : html`<p class="breaker-warning">Pending approvals cannot be read: ${d.pendingError}</p>`}
${orphan}
${table({
  attributes: { id: "breaker-pending" },
  rows: pending,
  rowAttributes: (r) => ({ "data-request": r.id, "data-scope": r.scope }),
  empty: emptyState({ message: "No reset is waiting for approval.", attributes: { "data-field": "no-approvals" } }),
  columns: [
    { header: "Scope", cell: (r) => html`<code>${r.scope}</code>` },
    { header: "Requested by", cell: (r) => actorName(r.requested_by) },
    { header: "Reason", cell: (r) => r.reason },
    { header: "Requested", cell: (r) => at(r.requested_at) },
    { header: "Expires", cell: (r) => at(r.expires_at) },
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
  attributes: { id: "breaker-transitions" },
  rows: d.history,
  rowAttributes: (t) => ({ "data-transition": t.id, "data-kind": t.kind, "data-scope": t.scope }),
  empty: emptyState({ message: "No transitions yet.", attributes: { "data-field": "no-history" } }),
  columns: [
    { header: "When", cell: (t) => at(t.at) },
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
  if (p === undefined || p.action === "approve" || d.scopes.some((v) => v.scope === p.scope)) return html``
  return problemMessage("breaker", p)
}

/**
 * The states, pending approvals and history. It re-fetches itself when the page's script reports a
 * change; a morph keeps what the user is typing in a form.
 */
export const breakerPanel = (
  d: BreakerPanelData
): Html => html`<section id="breaker-panel" hx-get="/breaker/panel" hx-trigger="breaker-changed from:body" hx-swap="outerMorph">
<p class="breaker-as-of"><small>As of ${formatTimestamp(d.now)}.</small></p>
${unplacedProblem(d)}
<div class="breaker-scopes">
${d.scopes.length === 0 ? html`<p class="breaker-warning">No breaker scope can be read: treat trading as halted.</p>` : ""}
${d.scopes.map((v) => scopeCard(v, d))}
</div>
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
<p id="breaker-live" data-stream="${d.streamUrl}" data-live="connecting" aria-live="polite"><small>Connecting to live updates…</small></p>
<noscript><p class="breaker-warning">Without JavaScript this page does not update by itself: reload it to see the current state.</p></noscript>
${breakerConsole(d)}
<script src="${d.assets.js}" defer></script>`
