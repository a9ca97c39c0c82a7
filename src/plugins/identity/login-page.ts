/** The sign-in page: email, password, and where to go afterwards. */
import { formField } from "../../../views/components/form-field.ts"
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
${formField({
  id: "login-email",
  name: "email",
  label: "Email",
  type: "email",
  value: data.email,
  required: true,
  attributes: { autocomplete: "username", autofocus: true, maxlength: 254 }
})}
${formField({
  id: "login-password",
  name: "password",
  label: "Password",
  type: "password",
  required: true,
  attributes: { autocomplete: "current-password", maxlength: 256 }
})}
<button type="submit">Sign in</button>
</form>
</article>`
