/** The sign-in page: email, password, and where to go afterwards. */
import { csrfInput } from "../../../views/csrf.ts"
import { type Html, html } from "../../../views/html.ts"

export interface LoginPageData {
  /** A same-site path to return to after signing in. */
  readonly next: string | undefined
  readonly email: string
  /** One message for every kind of refusal, so it never tells whether an account exists. */
  readonly error: string | undefined
  /** The current session's token, when someone already signed in opens the form. */
  readonly csrfToken: string | undefined
}

export const LOGIN_REFUSED = "email or password is wrong (or the account is locked: try again later)"

export const loginPage = (data: LoginPageData): Html => html`<article class="login">
<h1>Sign in</h1>
${data.error === undefined ? "" : html`<p role="alert" class="form-error" id="login-error">${data.error}</p>`}
<form method="post" action="/login">
${data.csrfToken === undefined ? "" : csrfInput(data.csrfToken)}
${data.next === undefined ? "" : html`<input type="hidden" name="next" value="${data.next}">`}
<label>Email
<input type="email" name="email" value="${data.email}" autocomplete="username" required autofocus maxlength="254">
</label>
<label>Password
<input type="password" name="password" autocomplete="current-password" required maxlength="256">
</label>
<button type="submit">Sign in</button>
</form>
</article>`
