/**
 * A destructive action that asks first, naming what it affects, without JavaScript: the action's
 * button ("Revoke…") opens a popover (`popovertarget`, in the top layer, so a table's scroll box
 * does not clip it) holding the real form: a sentence naming the target and what happens, a
 * confirm button that names it again, and Cancel. Escape or a click outside also cancels. A browser
 * without popovers shows the form in place instead, which still asks before posting.
 *
 * Why not `hx-confirm`: it guards only requests htmx makes (these are ordinary form posts, which
 * work without JavaScript), it uses `window.confirm`, and its `js:` form would need `eval` under
 * the console's Content-Security-Policy.
 *
 * While the action cannot be taken (e.g. the page waits for the password) there is no popover: a
 * disabled button in the form says why in its title.
 */
import { type Attributes, attributes } from "../attributes.ts"
import { csrfInput } from "../csrf.ts"
import { type Html, html } from "../html.ts"

export interface ConfirmationData {
  /** Unique on the page: the popover's id. */
  readonly id: string
  /** Where the form posts. */
  readonly action: string
  readonly csrfToken: string
  /** The action, a verb: "Revoke", "Disable": the button that opens the confirmation. */
  readonly label: string
  /** What it acts on, as the user knows it: "deploy pipeline (bw_abc…)", "vera@example.com". */
  readonly target: string
  /** What happens, said after the question: "Requests with this key are refused at once." */
  readonly consequence: string
  /** The question before the target, when not the label: "End every session of". */
  readonly prompt?: string | undefined
  /** The confirm button; the label and the target unless given. */
  readonly confirmLabel?: string | undefined
  /** Attributes of the form, e.g. `{ "data-form": "revoke" }` or htmx attributes. */
  readonly formAttributes?: Attributes | undefined
  /** Hidden fields posted with the confirmation. */
  readonly fields?: Html | undefined
  /** Visible controls asked for with the confirmation, shown after the question (e.g. the new role). */
  readonly controls?: Html | undefined
  /** Set when the action cannot be taken now: a disabled button with this as its title. */
  readonly unavailable?: string | undefined
}

export const confirmation = (d: ConfirmationData): Html =>
  d.unavailable !== undefined
    ? html`<form method="post" action="${d.action}" class="inline"${attributes(d.formAttributes)}>
${csrfInput(d.csrfToken)}<button type="submit" disabled title="${d.unavailable}">${d.label}</button>
</form>`
    : html`<button type="button" class="confirm-open" popovertarget="${d.id}">${d.label}…</button>
<div popover id="${d.id}" class="confirm" role="dialog" aria-labelledby="${d.id}-question">
<form method="post" action="${d.action}"${attributes(d.formAttributes)}>
${csrfInput(d.csrfToken)}${d.fields ?? ""}
<p id="${d.id}-question">${d.prompt ?? d.label} <strong>${d.target}</strong>? ${d.consequence}</p>
${d.controls ?? ""}<div class="confirm-buttons"><button type="submit" class="confirm-danger">${d.confirmLabel ?? `${d.label} ${d.target}`}</button>
<button type="button" class="confirm-cancel" popovertarget="${d.id}" popovertargetaction="hide" autofocus>Cancel</button></div>
</form>
</div>`
