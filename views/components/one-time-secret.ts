/**
 * A secret shown exactly once (a generated password, a new key): what it is for, the secret on its
 * own line (one click selects all of it), and a sentence saying it cannot be shown again. The page
 * that shows it must not be cached (the console's pages are `no-store`).
 */
import { type Attributes, attributes } from "../attributes.ts"
import { type Html, html } from "../html.ts"

export interface OneTimeSecretData {
  /** The heading, e.g. "Password for vera@example.com". */
  readonly heading: string
  readonly secret: string
  /** What to do with it, e.g. "Give it to Vera over a channel you trust; she signs in with it." */
  readonly instructions: string
  /** `data-field` of the secret, for tests and scripts. */
  readonly field: string
  /** Attributes of the box, e.g. its `id`. */
  readonly attributes?: Attributes | undefined
}

export const oneTimeSecret = (
  d: OneTimeSecretData
): Html => html`<article class="one-time-secret" role="status"${attributes(d.attributes)}>
<header><strong>${d.heading}</strong></header>
<p>${d.instructions}</p>
<div class="secret-row"><code class="secret" data-field="${d.field}">${d.secret}</code></div>
<p><small>Copy it now (a click selects all of it): it is shown only this once and cannot be recovered.</small></p>
</article>`
