/** The API keys page: existing keys, a form to create one, and the new key shown exactly once. */
import { csrfInput } from "../../../views/csrf.ts"
import { formatTimestamp } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"
import { reauthForm } from "../../../views/reauth.ts"

export interface ApiKeyRow {
  readonly id: string
  readonly name: string
  readonly ownerEmail: string
  readonly scopes: ReadonlyArray<string>
  readonly expiresAt: string
  readonly revokedAt: string | null
  readonly lastUsedAt: string | null
}

export interface ApiKeysPageData {
  readonly keys: ReadonlyArray<ApiKeyRow>
  /** The permissions the signed-in user may grant (a key's scopes are a subset of its owner's). */
  readonly grantable: ReadonlyArray<string>
  readonly csrfToken: string
  /** A key just created: its one and only display. */
  readonly created?: { readonly id: string; readonly plaintext: string }
  readonly now: number
  /** The session signed in more than the re-authentication window ago: revoking waits for the password. */
  readonly passwordNeeded: boolean
  /** The last confirmation's password was wrong. */
  readonly reauthWrong: boolean
}

const state = (k: ApiKeyRow, now: number) =>
  k.revokedAt !== null
    ? html`<span class="status down">revoked</span>`
    : new Date(k.expiresAt).getTime() <= now
      ? html`<span class="status unknown">expired</span>`
      : html`<span class="status up">active</span>`

export const apiKeysPage = (d: ApiKeysPageData): Html => html`<h1>API keys</h1>
${
  d.passwordNeeded && d.keys.some((k) => k.revokedAt === null)
    ? reauthForm({ csrfToken: d.csrfToken, next: "/admin/api-keys", wrong: d.reauthWrong, purpose: "revoke keys" })
    : ""
}
${
  d.created === undefined
    ? ""
    : html`<article id="new-api-key">
<header><strong>New key ${d.created.id}</strong></header>
<p>Copy it now: it is shown only this once and cannot be recovered.</p>
<pre><code data-field="api-key">${d.created.plaintext}</code></pre>
</article>`
}
${
  d.keys.length === 0
    ? html`<p>No API keys yet.</p>`
    : html`<div class="table-scroll"><table class="compact" id="api-keys">
<thead><tr><th>Key</th><th>Name</th><th>Owner</th><th>Scopes</th><th>Expires</th><th>Last used</th><th>State</th><th></th></tr></thead>
<tbody>${d.keys.map(
        (k) => html`<tr data-key="${k.id}">
<td><code>bw_${k.id}_…</code></td><td>${k.name}</td><td>${k.ownerEmail}</td>
<td>${k.scopes.map((s) => html`<code>${s}</code> `)}</td>
<td>${formatTimestamp(new Date(k.expiresAt))}</td>
<td>${k.lastUsedAt === null ? "never" : formatTimestamp(new Date(k.lastUsedAt))}</td>
<td>${state(k, d.now)}</td>
<td>${
          k.revokedAt === null
            ? html`<form method="post" action="/admin/api-keys/${k.id}/revoke" class="inline">${csrfInput(d.csrfToken)}<button type="submit" class="secondary"${
                d.passwordNeeded ? html` disabled title="Confirm with your password first"` : ""
              }>Revoke</button></form>`
            : ""
        }</td>
</tr>`
      )}</tbody>
</table></div>`
}
<h2>Create a key</h2>
<form method="post" action="/admin/api-keys" id="create-api-key">
${csrfInput(d.csrfToken)}
<label>Name <input name="name" required maxlength="100" placeholder="deploy pipeline"></label>
<fieldset><legend>Scopes</legend>
${d.grantable.map((p) => html`<label><input type="checkbox" name="scopes" value="${p}"> <code>${p}</code></label>`)}
</fieldset>
<label>Expires in <select name="expiresIn">
<option value="7d">7 days</option><option value="30d" selected>30 days</option><option value="90d">90 days</option><option value="365d">1 year</option>
</select></label>
<label>Your password (needed if you signed in more than 5 minutes ago) <input type="password" name="password" autocomplete="current-password"></label>
<button type="submit">Create key</button>
</form>`
