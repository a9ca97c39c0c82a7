/**
 * The API keys page: existing keys, a form to create one (permissions grouped by the module that
 * declares them, each with its description, and presets for the usual callers), and the new key
 * shown exactly once with a Copy button. Without JavaScript everything still works: the secret is
 * selectable text, a preset is posted and granted by the server, and revoking asks in a popover.
 */
import { confirmation } from "../../../views/components/confirmation.ts"
import { emptyState } from "../../../views/components/empty-state.ts"
import { formField, selectField } from "../../../views/components/form-field.ts"
import { statusBadge } from "../../../views/components/status-badge.ts"
import { table } from "../../../views/components/table.ts"
import { csrfInput } from "../../../views/csrf.ts"
import { formatTimestamp } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"
import { reauthForm } from "../../../views/reauth.ts"
import type { Preset } from "./presets.ts"

export interface ApiKeyRow {
  readonly id: string
  readonly name: string
  readonly ownerEmail: string
  readonly scopes: ReadonlyArray<string>
  readonly expiresAt: string
  readonly revokedAt: string | null
  readonly lastUsedAt: string | null
}

/** A permission the signed-in user may grant, as its module declared it. */
export interface GrantablePermission {
  readonly name: string
  readonly description: string
  readonly module: string
}

/** What the create form shows: empty, or what was posted when the server refused it. */
export interface CreateFormState {
  readonly name: string
  readonly scopes: ReadonlyArray<string>
  readonly expiresIn: string
  readonly preset: string | undefined
  /** Problems by field (`name`, `scopes`, `expiresIn`, `preset`, `password`), shown next to it. */
  readonly errors: Readonly<Record<string, string>>
}

export const emptyCreateForm: CreateFormState = {
  name: "",
  scopes: [],
  expiresIn: "30d",
  preset: undefined,
  errors: {}
}

export interface ApiKeysPageData {
  readonly keys: ReadonlyArray<ApiKeyRow>
  /** The permissions the signed-in user may grant (a key's scopes are a subset of its owner's). */
  readonly grantable: ReadonlyArray<GrantablePermission>
  /** Every declared permission's description, for the scopes of existing keys. */
  readonly descriptions: ReadonlyMap<string, string>
  readonly presets: ReadonlyArray<Preset>
  readonly csrfToken: string
  /** A key just created: its one and only display. */
  readonly created?: { readonly id: string; readonly name: string; readonly plaintext: string }
  readonly form: CreateFormState
  readonly now: number
  /** The session signed in more than the re-authentication window ago: revoking waits for the password. */
  readonly passwordNeeded: boolean
  /** The last confirmation's password was wrong. */
  readonly reauthWrong: boolean
  /** The page's script (Copy button, presets), served with the page. */
  readonly script: string
}

const MODULE_LABELS: Readonly<Record<string, string>> = { core: "Core", "api-keys": "API keys" }

/** `circuit-breaker` → "Circuit breaker". */
export const moduleLabel = (module: string): string =>
  MODULE_LABELS[module] ?? `${module.charAt(0).toUpperCase()}${module.slice(1).replaceAll("-", " ")}`

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
    label: "API keys",
    attributes: { id: "api-keys" },
    rows: d.keys,
    rowAttributes: (k) => ({ "data-key": k.id }),
    empty: emptyState({ message: "No API keys yet.", action: { label: "Create one", href: "#create-api-key" } }),
    columns: [
      { header: "Key", cell: (k) => html`<code>bw_${k.id}_…</code>` },
      { header: "Name", cell: (k) => k.name },
      { header: "Owner", cell: (k) => k.ownerEmail },
      {
        header: "Permissions",
        cell: (k) =>
          k.scopes.map((s) => html`<code title="${d.descriptions.get(s) ?? "no longer installed"}">${s}</code> `)
      },
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

/** The one display of a new key: selectable text, and a Copy button once the script runs. */
const createdKey = (
  created: NonNullable<ApiKeysPageData["created"]>
): Html => html`<article id="new-api-key" aria-labelledby="new-api-key-title">
<header><strong id="new-api-key-title">New key “${created.name}” (bw_${created.id}_…)</strong></header>
<p>Copy it now: it is shown only this once and cannot be recovered.</p>
<div class="secret-row">
<code data-field="api-key" id="new-api-key-secret" class="secret">${created.plaintext}</code>
<button type="button" class="copy-secret" data-copy="new-api-key-secret" data-copy-status="new-api-key-copied" hidden>Copy key</button>
</div>
<p id="new-api-key-copied" class="copy-status" role="status"><small>Select the key to copy it (a click selects all of it).</small></p>
</article>`

const error = (id: string, message: string | undefined): Html =>
  message === undefined ? html`` : html`<p class="field-error" id="${id}">${message}</p>`

/** A radio button or checkbox with its label, and what it means under it (read with it). */
const choice = (control: Html, label: Html | string, whatId: string | undefined, what: Html | undefined): Html =>
  html`<div class="choice"><label>${control} ${label}</label>${
    whatId === undefined || what === undefined ? "" : html`<small id="${whatId}">${what}</small>`
  }</div>`

const presetsFieldset = (d: ApiKeysPageData, focus: boolean): Html => {
  if (d.presets.length === 0) return html``
  const chosen = d.form.preset ?? ""
  const problem = d.form.errors.preset
  const radio = (id: string, permissions: string, described: boolean, autofocus: boolean) =>
    html`<input type="radio" name="preset" value="${id}" data-preset="${id}"${permissions === "" ? "" : html` data-permissions="${permissions}"`}${
      chosen === id ? html` checked` : ""
    }${autofocus ? html` autofocus` : ""}${described ? html` aria-describedby="preset-${id}-what"` : ""}>`
  return html`<fieldset class="presets" id="api-key-presets"${problem === undefined ? "" : html` aria-describedby="api-key-preset-error"`}>
<legend>Start from a preset</legend>
<p class="hint" data-hint-nojs><small>A preset grants its permissions together with any you tick below.</small></p>
${error("api-key-preset-error", problem)}
${choice(radio("", "", false, focus), "Custom: only what I tick", undefined, undefined)}
${d.presets.map((p) =>
  choice(
    radio(p.id, p.permissions.join(" "), true, false),
    p.label,
    `preset-${p.id}-what`,
    html`${p.description} ${p.permissions.map((n) => html`<code>${n}</code> `)}`
  )
)}
</fieldset>`
}

const permissionsFieldset = (d: ApiKeysPageData, focus: boolean): Html => {
  const modules = [...new Set(d.grantable.map((p) => p.module))]
  const ticked = new Set(d.form.scopes)
  const problem = d.form.errors.scopes
  const box = (p: GrantablePermission, autofocus: boolean) =>
    html`<input type="checkbox" name="scopes" value="${p.name}"${ticked.has(p.name) ? html` checked` : ""}${
      autofocus ? html` autofocus` : ""
    } aria-describedby="scope-${p.name}-what">`
  return html`<fieldset class="scopes" id="api-key-scopes"${problem === undefined ? "" : html` aria-describedby="api-key-scopes-error" aria-invalid="true"`}>
<legend>Permissions</legend>
${error("api-key-scopes-error", problem)}
<div class="scope-groups">
${modules.map(
  (module, i) => html`<fieldset class="scope-group" data-module="${module}"><legend>${moduleLabel(module)}</legend>
${d.grantable
  .filter((p) => p.module === module)
  .map((p, j) =>
    choice(
      box(p, focus && i === 0 && j === 0),
      html`<code>${p.name}</code>`,
      `scope-${p.name}-what`,
      html`${p.description}`
    )
  )}
</fieldset>`
)}
</div>
</fieldset>`
}

/** The field a refused form puts the focus on (the browser scrolls there): the first one in error. */
const FIELD_ORDER = ["name", "preset", "scopes", "expiresIn", "password"] as const
const firstError = (form: CreateFormState) => FIELD_ORDER.find((f) => form.errors[f] !== undefined)

const createForm = (d: ApiKeysPageData): Html => {
  const focus = firstError(d.form)
  const general = d.form.errors.form
  return html`<h2>Create a key</h2>
${
  focus === undefined && general === undefined
    ? ""
    : html`<p role="alert" class="form-error" id="create-api-key-error">The key was not created${
        general === undefined ? ": see the fields marked below." : html`: ${general}`
      }</p>`
}
<form method="post" action="/admin/api-keys" id="create-api-key">
${csrfInput(d.csrfToken)}
${formField({
  id: "api-key-name",
  name: "name",
  label: "Name",
  required: true,
  value: d.form.name,
  error: d.form.errors.name,
  hint: "Who uses it, e.g. “execution service (prod)”.",
  attributes: { maxlength: 100, placeholder: "deploy pipeline", autofocus: focus === "name" }
})}
${presetsFieldset(d, focus === "preset")}
${permissionsFieldset(d, focus === "scopes")}
${selectField({
  id: "api-key-expires",
  name: "expiresIn",
  label: "Expires in",
  options: expiries,
  selected: d.form.expiresIn,
  error: d.form.errors.expiresIn,
  attributes: { autofocus: focus === "expiresIn" }
})}
${formField({
  id: "api-key-password",
  name: "password",
  label: "Your password",
  type: "password",
  error: d.form.errors.password,
  hint: "Needed if you signed in more than 5 minutes ago.",
  attributes: { autocomplete: "current-password", autofocus: focus === "password" }
})}
<button type="submit">Create key</button>
</form>`
}

export const apiKeysPage = (d: ApiKeysPageData): Html => html`<h1>API keys</h1>
${
  d.passwordNeeded && d.keys.some((k) => k.revokedAt === null)
    ? reauthForm({ csrfToken: d.csrfToken, next: "/admin/api-keys", wrong: d.reauthWrong, purpose: "revoke keys" })
    : ""
}
${d.created === undefined ? "" : createdKey(d.created)}
${keysTable(d)}
${createForm(d)}
<script src="${d.script}" defer></script>`
