/**
 * The user administration page: every user with role, state and last session activity; per row
 * the changes an administrator makes (role, disable or enable, end sessions, a new password), each
 * that takes something away behind a confirmation naming the user; a refused change said in the
 * user's row; and the form to add a user, kept with its problems named when the input is wrong. A
 * password the console generates (new user, new password) is shown once, above the table. When
 * re-authentication is due the page asks once for the admin's password (above the table) and the
 * row buttons wait for it; the add form asks for it itself, so nothing typed is lost.
 */

import { confirmation } from "../../../views/components/confirmation.ts"
import { emptyState } from "../../../views/components/empty-state.ts"
import { formField, selectField } from "../../../views/components/form-field.ts"
import { oneTimeSecret } from "../../../views/components/one-time-secret.ts"
import { statusBadge } from "../../../views/components/status-badge.ts"
import { table } from "../../../views/components/table.ts"
import { csrfInput } from "../../../views/csrf.ts"
import { formatTimestamp } from "../../../views/format.ts"
import { type Html, html } from "../../../views/html.ts"
import { reauthForm } from "../../../views/reauth.ts"

export interface UserRow {
  readonly id: string
  readonly email: string
  readonly displayName: string
  readonly role: string
  readonly disabled: boolean
  readonly activeSessions: number
  readonly lastSeenAt: Date | undefined
}

export const userNotices = {
  role_changed: "Role changed; the user's sessions were ended.",
  disabled: "User disabled; their sessions were ended.",
  enabled: "User enabled.",
  sessions_ended: "The user's sessions were ended."
} as const
export type UserNotice = keyof typeof userNotices

/** What the add form holds: as typed, so a refused form comes back as it was. */
export interface AddUserValues {
  readonly email: string
  readonly name: string
  readonly role: string
}

export type AddUserField = "email" | "name" | "role" | "password"

export interface AddUserState {
  readonly values: AddUserValues
  /** The problem of each field, by field. */
  readonly errors: Partial<Record<AddUserField, string>>
}

/** A password the console generated, shown on this page only. */
export interface GeneratedPassword {
  readonly kind: "new-user" | "new-password"
  readonly email: string
  readonly displayName: string
  readonly role: string
  readonly password: string
}

/** What a role may do, for the add form's explanation. */
export interface RolePermissions {
  readonly role: string
  readonly permissions: ReadonlyArray<{ readonly name: string; readonly description: string }>
}

export interface UsersPageData {
  readonly users: ReadonlyArray<UserRow>
  readonly roles: ReadonlyArray<string>
  readonly rolePermissions: ReadonlyArray<RolePermissions>
  readonly notice: UserNotice | undefined
  readonly csrfToken: string
  readonly currentUserId: string
  /** Whether changes will ask for the password (the session signed in long enough ago). */
  readonly passwordNeeded: boolean
  /** The last confirmation's password was wrong. */
  readonly reauthWrong: boolean
  /** The add form as it was sent, with its problems; an empty form when undefined. */
  readonly add?: AddUserState | undefined
  readonly generated?: GeneratedPassword | undefined
  /** A change to this user was refused: the reason, said in their row. */
  readonly refusal?: { readonly userId: string; readonly message: string } | undefined
}

const WAIT_FOR_PASSWORD = "Confirm with your password first"

const unavailable = (data: UsersPageData) => (data.passwordNeeded ? WAIT_FOR_PASSWORD : undefined)

const you = (u: UserRow, data: UsersPageData) => u.id === data.currentUserId

/** The role, and a confirmation that asks for the new one. */
const roleCell = (u: UserRow, data: UsersPageData): Html => html`<span data-field="role-name">${u.role}</span>
${confirmation({
  id: `confirm-role-${u.id}`,
  action: `/admin/users/${u.id}/role`,
  csrfToken: data.csrfToken,
  label: "Change role",
  prompt: "Change the role of",
  target: u.email,
  confirmLabel: `Change role of ${u.email}`,
  consequence: you(u, data)
    ? "This is you: your sessions end at once and you sign in again with the new role's rights."
    : "Their sessions end at once; they sign in again with the new role's rights.",
  formAttributes: { "data-form": "role" },
  controls: selectField({
    id: `role-${u.id}`,
    name: "role",
    label: "New role",
    options: data.roles.filter((r) => r !== u.role).map((r) => ({ value: r, label: r }))
  }),
  unavailable: unavailable(data)
})}`

const enableForm = (u: UserRow, data: UsersPageData): Html =>
  html`<form method="post" action="/admin/users/${u.id}/enable" class="inline" data-form="enable">
${csrfInput(data.csrfToken)}<button type="submit" class="secondary outline"${data.passwordNeeded ? html` disabled title="${WAIT_FOR_PASSWORD}"` : ""}>Enable</button>
</form>`

/** Disabling, ending sessions and a new password throw someone out: they ask first, naming the user. */
const confirmedAction = (
  u: UserRow,
  data: UsersPageData,
  action: string,
  texts: { readonly label: string; readonly prompt: string; readonly confirm: string; readonly consequence: string }
): Html =>
  confirmation({
    id: `confirm-${action}-${u.id}`,
    action: `/admin/users/${u.id}/${action}`,
    csrfToken: data.csrfToken,
    label: texts.label,
    prompt: texts.prompt,
    target: u.email,
    confirmLabel: texts.confirm,
    consequence: you(u, data) ? `This is you: you are signed out at once. ${texts.consequence}` : texts.consequence,
    formAttributes: { "data-form": action },
    unavailable: unavailable(data)
  })

const actions = (u: UserRow, data: UsersPageData): Html =>
  html`${
    u.disabled
      ? enableForm(u, data)
      : confirmedAction(u, data, "disable", {
          label: "Disable",
          prompt: "Disable",
          confirm: `Disable ${u.email}`,
          consequence: "Their sessions end and they cannot sign in until enabled again."
        })
  }
${confirmedAction(u, data, "end-sessions", {
  label: "End sessions",
  prompt: "End every session of",
  confirm: `End sessions of ${u.email}`,
  consequence: "They are signed out everywhere and may sign in again."
})}
${confirmedAction(u, data, "password", {
  label: "New password",
  prompt: "Replace the password of",
  confirm: `New password for ${u.email}`,
  consequence: "Their sessions end and their old password stops working; the new one is shown to you once, to pass on."
})}`

const emailCell = (u: UserRow, data: UsersPageData): Html =>
  html`${u.email}${you(u, data) ? html` <small>(you)</small>` : ""}${
    data.refusal?.userId === u.id
      ? html`<p class="form-error refusal" role="alert" tabindex="-1" autofocus data-field="refusal">Refused: ${data.refusal.message}. Nothing was changed.</p>`
      : ""
  }`

const usersTable = (data: UsersPageData): Html =>
  table({
    label: "Users",
    attributes: { id: "users" },
    rows: data.users,
    rowAttributes: (u) => ({ "data-user": u.email, id: `user-${u.id}` }),
    stackOnPhone: true,
    empty: emptyState({ message: "No users yet: add one below." }),
    columns: [
      { header: "Email", cell: (u) => emailCell(u, data) },
      { header: "Name", cell: (u) => u.displayName },
      { header: "Role", cell: (u) => roleCell(u, data), cellAttributes: () => ({ "data-field": "role" }) },
      {
        header: "State",
        cell: (u) =>
          u.disabled
            ? statusBadge("neutral", "disabled", { "data-field": "state" })
            : statusBadge("ok", "enabled", { "data-field": "state" })
      },
      { header: "Sessions", cell: (u) => u.activeSessions, cellAttributes: () => ({ "data-field": "sessions" }) },
      { header: "Last activity", cell: (u) => (u.lastSeenAt === undefined ? "never" : formatTimestamp(u.lastSeenAt)) },
      { header: "Actions", cell: (u) => actions(u, data) }
    ]
  })

const generatedPassword = (g: GeneratedPassword): Html =>
  oneTimeSecret({
    heading: g.kind === "new-user" ? `${g.email} was added as ${g.role}` : `New password for ${g.email}`,
    secret: g.password,
    field: "one-time-password",
    attributes: { id: "one-time-password" },
    instructions:
      g.kind === "new-user"
        ? `This is ${g.displayName}'s password. Give it to them over a channel you trust; they sign in with it at /login. If it is lost, give them a new one with "New password" in their row.`
        : `Their sessions were ended and the old password no longer works. Give ${g.displayName} this one over a channel you trust.`
  })

const emptyAdd: AddUserState = { values: { email: "", name: "", role: "viewer" }, errors: {} }

const roleExplanation = (data: UsersPageData): Html => html`<details class="role-permissions">
<summary>What each role may do</summary>
<dl>
${data.rolePermissions.map(
  (r) => html`<dt>${r.role}</dt>
<dd>${
    r.role === "admin"
      ? "Everything, including this page and every permission of modules added later."
      : r.permissions.length === 0
        ? "Nothing yet."
        : html`<ul>${r.permissions.map((p) => html`<li><code>${p.name}</code>: ${p.description}</li>`)}</ul>`
  }</dd>
`
)}</dl>
</details>`

const addForm = (data: UsersPageData): Html => {
  const { values, errors } = data.add ?? emptyAdd
  const refused = Object.keys(errors).length > 0
  return html`<section aria-labelledby="add-user-heading">
<h2 id="add-user-heading">Add a user</h2>
<form method="post" action="/admin/users" id="add-user" class="stacked" data-form="add-user">
${csrfInput(data.csrfToken)}
${refused ? html`<p class="form-error" role="alert" tabindex="-1" autofocus id="add-user-error">The user was not added: correct the fields marked below.</p>` : ""}
${formField({
  id: "add-user-email",
  name: "email",
  label: "Email",
  type: "email",
  value: values.email,
  required: true,
  error: errors.email,
  hint: "They sign in with it.",
  attributes: { maxlength: 254, autocomplete: "off" }
})}
${formField({
  id: "add-user-name",
  name: "name",
  label: "Name",
  value: values.name,
  required: true,
  error: errors.name,
  hint: "Shown in the console and the audit log.",
  attributes: { maxlength: 100, autocomplete: "off" }
})}
${selectField({
  id: "add-user-role",
  name: "role",
  label: "Role",
  options: data.roles.map((r) => ({ value: r, label: r })),
  selected: values.role,
  error: errors.role
})}
${roleExplanation(data)}
${
  data.passwordNeeded
    ? formField({
        id: "add-user-password",
        name: "password",
        label: "Your password",
        type: "password",
        required: true,
        error: errors.password,
        hint: "You signed in more than 5 minutes ago: confirm with your password to add a user.",
        attributes: { autocomplete: "current-password" }
      })
    : ""
}
<p><small>A password is generated for them and shown to you once, to pass on.</small></p>
<button type="submit">Add user</button>
</form>
<p><small>From the command line: <code>npx breakwater user add</code>.</small></p>
</section>`
}

export const usersPage = (data: UsersPageData): Html => html`<h1>Users</h1>
${data.notice === undefined ? "" : html`<p role="status" class="notice">${userNotices[data.notice]}</p>`}
${data.generated === undefined ? "" : generatedPassword(data.generated)}
${
  data.passwordNeeded
    ? reauthForm({
        csrfToken: data.csrfToken,
        next: "/admin/users",
        wrong: data.reauthWrong,
        purpose: "change roles, disable users, end sessions or set passwords"
      })
    : ""
}
<p><a href="#add-user-heading">Add a user</a></p>
${usersTable(data)}
${addForm(data)}`
