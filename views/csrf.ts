/** The hidden field that carries the session's CSRF token in every state-changing form. */
import { type Html, html } from "./html.ts"

export const csrfInput = (token: string): Html => html`<input type="hidden" name="_csrf" value="${token}">`
