/**
 * The "confirm with your password" form shown at the top of an administration page when the
 * sign-in is older than the re-authentication window: one password unlocks the page's changes for
 * the next minutes, instead of a password field in every row.
 */
import { csrfInput } from "./csrf.ts"
import { type Html, html } from "./html.ts"

export interface ReauthFormData {
  readonly csrfToken: string
  /** The page to come back to. */
  readonly next: string
  /** The last password given was wrong. */
  readonly wrong: boolean
  /** What the confirmation unlocks, e.g. "change users". */
  readonly purpose: string
}

export const reauthForm = (
  d: ReauthFormData
): Html => html`<form method="post" action="/reauthenticate" class="reauth" id="reauth">
${csrfInput(d.csrfToken)}<input type="hidden" name="next" value="${d.next}">
<p>You signed in more than 5 minutes ago: confirm with your password to ${d.purpose}.</p>
${d.wrong ? html`<p role="alert" class="form-error" id="reauth-error">The password is wrong.</p>` : ""}
<label for="reauth-password">Your password</label>
<span class="reauth-row"><input type="password" id="reauth-password" name="password" required autocomplete="current-password"${d.wrong ? html` aria-invalid="true" aria-describedby="reauth-error"` : ""}>
<button type="submit">Confirm</button></span>
</form>`
