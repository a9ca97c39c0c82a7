/**
 * The breaker's console forms and their refusals, shared by the Circuit Breaker page and the
 * dashboard: a refused form comes back with the message next to it and what was typed (never a
 * password); a refusal with a retry time (the reset rate limit's `Retry-After`) says when and
 * keeps the submit button disabled until then (public/app.js counts down and enables it). A trip
 * is one step: a reason, an acknowledgement, no password.
 */
import { csrfInput } from "../../../../views/csrf.ts"
import { formatTimestamp } from "../../../../views/format.ts"
import { type Html, html } from "../../../../views/html.ts"
import { countdown } from "./state.ts"

export type BreakerAction = "trip" | "reset" | "approve" | "create"

/** A refused form submission, shown next to its form with what the user typed (never the password). */
export interface FormProblem {
  /** The scope acted on (for a new scope: the name typed). */
  readonly scope: string
  readonly action: BreakerAction
  /** The reset request an approval was for. */
  readonly requestId?: string
  readonly message: string
  readonly issues: ReadonlyArray<{ readonly path: string; readonly message: string }>
  readonly reason: string
  /** Re-authentication was refused: show the password field whatever the clock says. */
  readonly passwordNeeded: boolean
  /** The refusal's `Retry-After`: the form may be sent again this many seconds after `now`. */
  readonly retryAfterSeconds?: number
}

const fieldNames: Readonly<Record<string, string>> = {
  reason: "Reason",
  acknowledge: "Acknowledgement",
  password: "Password",
  version: "Version",
  scope: "Scope",
  id: "Reset request"
}

const hasIssue = (problem: FormProblem | undefined, field: string) =>
  problem?.issues.some((i) => i.path === field) === true

export const invalid = (problem: FormProblem | undefined, field: string): Html | string =>
  hasIssue(problem, field) ? html` aria-invalid="true"` : ""

export const describedBy = (id: string, problem: FormProblem | undefined): Html | string =>
  problem === undefined ? "" : html` aria-describedby="${id}-error"`

/** When a refused form may be sent again: in words, counting down. */
const retryLine = (problem: FormProblem, now: number): Html => {
  if (problem.retryAfterSeconds === undefined) return html``
  const at = now + problem.retryAfterSeconds * 1000
  return html`<p data-field="retry">You can try again in ${countdown(at, now)} (at <time datetime="${new Date(at).toISOString()}">${formatTimestamp(at)}</time>); what you typed is kept.</p>`
}

/** The refusal next to its form: each field's problem when the input was wrong, else the message. */
export const problemMessage = (id: string, problem: FormProblem | undefined, now: number): Html =>
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
${retryLine(problem, now)}
</div>`

export const reasonField = (
  id: string,
  label: string,
  problem: FormProblem | undefined
): Html => html`<label for="${id}-reason">${label}</label>
<textarea id="${id}-reason" name="reason" rows="3" required minlength="20" maxlength="2000"${invalid(problem, "reason")}${describedBy(id, problem)}>${problem?.reason ?? ""}</textarea>`

export const acknowledgeField = (id: string, text: string, problem: FormProblem | undefined): Html =>
  html`<label for="${id}-acknowledge"><input type="checkbox" id="${id}-acknowledge" name="acknowledge" required${invalid(problem, "acknowledge")}> ${text}</label>`

/** htmx posts the form and swaps `target`; without JavaScript it is an ordinary form post. */
export const formAttributes = (action: string, id: string, kind: BreakerAction, target: string): Html =>
  html`method="post" action="${action}" hx-post="${action}" hx-target="${target}" hx-swap="outerHTML" hx-disable="find button" id="${id}" data-form="${kind}"`

/**
 * A submit button, disabled while a refusal's retry time (or a known wait) runs: public/app.js
 * enables it when the countdown ends; a fresh render says the same.
 */
export const submitButton = (label: string, className: string, waitMs: number | undefined): Html =>
  waitMs === undefined || waitMs <= 0
    ? html`<button type="submit" class="${className}">${label}</button>`
    : html`<button type="submit" class="${className}" disabled data-retry-in="${Math.ceil(waitMs)}">${label}</button>`

export const scopeWords = (scope: string): string => (scope === "global" ? "everywhere (every scope)" : `for ${scope}`)

export const scopePath = (scope: string): string => `/breaker/${encodeURIComponent(scope)}`

export interface TripFormData {
  readonly scope: string
  readonly csrfToken: string
  /** This form's refusal, if it was refused. */
  readonly problem: FormProblem | undefined
  /** The element the answer replaces (`#breaker-console` on the breaker page). */
  readonly target: string
  /** Asks the breaker to answer with the dashboard's summary instead of its page's console. */
  readonly summary?: boolean
  readonly now: number
}

/** Halting is the safe direction: a reason and an acknowledgement, never a password. */
export const tripForm = (d: TripFormData): Html => {
  const id = `trip-${d.scope}`
  return html`<form ${formAttributes(`${scopePath(d.scope)}/trip`, id, "trip", d.target)} class="breaker-form breaker-trip-form">
${csrfInput(d.csrfToken)}${d.summary === true ? html`<input type="hidden" name="_view" value="summary">` : ""}
<fieldset>
<legend>Trip <strong>${d.scope}</strong>: halt trading</legend>
${reasonField(id, "Reason (at least 20 characters): what is wrong?", d.problem)}
${acknowledgeField(id, `I understand that this halts trading ${scopeWords(d.scope)} until it is reset.`, d.problem)}
</fieldset>
${problemMessage(id, d.problem, d.now)}
<button type="submit" class="breaker-trip">Trip ${d.scope}</button>
</form>`
}
