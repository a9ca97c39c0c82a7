/** The API keys page: existing keys, a form to create one, and the new key shown exactly once. */
import { confirmation } from "../../../views/components/confirmation.ts"
import { emptyState } from "../../../views/components/empty-state.ts"
import { formField, selectField } from "../../../views/components/form-field.ts"
import { statusBadge } from "../../../views/components/status-badge.ts"
import { table } from "../../../views/components/table.ts"
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

const state = (k: ApiKeyRow, now: number): Html =>
  k.revokedAt !== null
    ? statusBadge("danger", "revoked")
    : new Date(k.expiresAt).getTime() <= now
      ? statusBadge("neutral", "expired")
      : statusBadge("ok", "active")

/** Revoking breaks whatever uses the key: it asks first, naming the key. */
const revoke = (k: ApiKeyRow, d: ApiKeysPageData): Html =>
  k.revokedAt !== null
    ? html``
    : confirmation({
        id: `confirm-revoke-${k.id}`,
        action: `/admin/api-keys/${k.id}/revoke`,
        csrfToken: d.csrfToken,
        label: "Revoke",
        prompt: "Revoke the key",
        target: `${k.name} (bw_${k.id}_…)`,
        confirmLabel: `Revoke ${k.name}`,
        consequence: "Every request made with it is refused from now on; this cannot be undone.",
        formAttributes: { "data-form": "revoke" },
        unavailable: d.passwordNeeded ? "Confirm with your password first" : undefined
      })

const keysTable = (d: ApiKeysPageData): Html =>
  table({
    attributes: { id: "api-keys" },
    rows: d.keys,
    rowAttributes: (k) => ({ "data-key": k.id }),
    empty: emptyState({ message: "No API keys yet.", action: { label: "Create one", href: "#create-api-key" } }),
    columns: [
      { header: "Key", cell: (k) => html`<code>bw_${k.id}_…</code>` },
      { header: "Name", cell: (k) => k.name },
      { header: "Owner", cell: (k) => k.ownerEmail },
      { header: "Scopes", cell: (k) => k.scopes.map((s) => html`<code>${s}</code> `) },
      { header: "Expires", cell: (k) => formatTimestamp(new Date(k.expiresAt)) },
      { header: "Last used", cell: (k) => (k.lastUsedAt === null ? "never" : formatTimestamp(new Date(k.lastUsedAt))) },
      { header: "State", cell: (k) => state(k, d.now) },
      { header: "Actions", hideHeader: true, cell: (k) => revoke(k, d) }
    ]
  })

const expiries = [
  { value: "7d", label: "7 days" },
  { value: "30d", label: "30 days" },
  { value: "90d", label: "90 days" },
  { value: "365d", label: "1 year" }
]

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
${keysTable(d)}
<h2>Create a key</h2>
<form method="post" action="/admin/api-keys" id="create-api-key">
${csrfInput(d.csrfToken)}
${formField({
  id: "api-key-name",
  name: "name",
  label: "Name",
  required: true,
  attributes: { maxlength: 100, placeholder: "deploy pipeline" }
})}
<fieldset><legend>Scopes</legend>
${d.grantable.map((p) => html`<label><input type="checkbox" name="scopes" value="${p}"> <code>${p}</code></label>`)}
</fieldset>
${selectField({ id: "api-key-expires", name: "expiresIn", label: "Expires in", options: expiries, selected: "30d" })}
${formField({
  id: "api-key-password",
  name: "password",
  label: "Your password",
  type: "password",
  hint: "Needed if you signed in more than 5 minutes ago.",
  attributes: { autocomplete: "current-password" }
})}
<button type="submit">Create key</button>
</form>`
