/**
 * The user administration page: every user with role, state and last session activity, and the
 * forms to change a role, disable or enable, and end sessions. When re-authentication is due the
 * page asks once for the admin's password (above the table) and the row buttons wait for it.
 */

import { confirmation } from "../../../views/components/confirmation.ts"
import { emptyState } from "../../../views/components/empty-state.ts"
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

export interface UsersPageData {
  readonly users: ReadonlyArray<UserRow>
  readonly roles: ReadonlyArray<string>
  readonly notice: UserNotice | undefined
  readonly csrfToken: string
  readonly currentUserId: string
  /** Whether changes will ask for the password (the session signed in long enough ago). */
  readonly passwordNeeded: boolean
  /** The last confirmation's password was wrong. */
  readonly reauthWrong: boolean
}

/** Row buttons wait for the page's password confirmation. */
const submitButton = (data: UsersPageData, label: string, style: string): Html =>
  html`<button type="submit" class="${style}"${data.passwordNeeded ? html` disabled title="Confirm with your password first"` : ""}>${label}</button>`

const roleForm = (
  user: UserRow,
  data: UsersPageData
): Html => html`<form method="post" action="/admin/users/${user.id}/role" class="inline" data-form="role">
${csrfInput(data.csrfToken)}
<select name="role" aria-label="Role of ${user.email}">
${data.roles.map((r) => html`<option value="${r}"${r === user.role ? " selected" : ""}>${r}</option>`)}
</select>
${submitButton(data, "Change role", "secondary")}
</form>`

const actionForm = (
  user: UserRow,
  action: string,
  label: string,
  data: UsersPageData
): Html => html`<form method="post" action="/admin/users/${user.id}/${action}" class="inline" data-form="${action}">
${csrfInput(data.csrfToken)}${submitButton(data, label, "secondary outline")}
</form>`

/** Disabling and ending sessions throw someone out: they ask first, naming the user. */
const confirmedAction = (
  user: UserRow,
  data: UsersPageData,
  action: string,
  texts: { readonly label: string; readonly prompt: string; readonly confirm: string; readonly consequence: string }
): Html =>
  confirmation({
    id: `confirm-${action}-${user.id}`,
    action: `/admin/users/${user.id}/${action}`,
    csrfToken: data.csrfToken,
    label: texts.label,
    prompt: texts.prompt,
    target: user.email,
    confirmLabel: texts.confirm,
    consequence: texts.consequence,
    formAttributes: { "data-form": action },
    unavailable: data.passwordNeeded ? "Confirm with your password first" : undefined
  })

const actions = (u: UserRow, data: UsersPageData): Html =>
  html`${
    u.disabled
      ? actionForm(u, "enable", "Enable", data)
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
})}`

export const usersPage = (data: UsersPageData): Html => html`<h1>Users</h1>
${data.notice === undefined ? "" : html`<p role="status" class="notice">${userNotices[data.notice]}</p>`}
<p>Add users and reset passwords with <code>npx breakwater user add</code> and <code>npx breakwater user passwd</code>.</p>
${
  data.passwordNeeded
    ? reauthForm({
        csrfToken: data.csrfToken,
        next: "/admin/users",
        wrong: data.reauthWrong,
        purpose: "change roles, disable users or end sessions"
      })
    : ""
}
${table({
  attributes: { id: "users" },
  rows: data.users,
  rowAttributes: (u) => ({ "data-user": u.email }),
  empty: emptyState({ message: "No users yet: add one with npx breakwater user add." }),
  columns: [
    { header: "Email", cell: (u) => html`${u.email}${u.id === data.currentUserId ? html` <small>(you)</small>` : ""}` },
    { header: "Name", cell: (u) => u.displayName },
    { header: "Role", cell: (u) => roleForm(u, data), cellAttributes: () => ({ "data-field": "role" }) },
    {
      header: "State",
      cell: (u) => (u.disabled ? "disabled" : "enabled"),
      cellAttributes: () => ({ "data-field": "state" })
    },
    { header: "Sessions", cell: (u) => u.activeSessions, cellAttributes: () => ({ "data-field": "sessions" }) },
    { header: "Last activity", cell: (u) => (u.lastSeenAt === undefined ? "never" : formatTimestamp(u.lastSeenAt)) },
    { header: "Actions", cell: (u) => actions(u, data) }
  ]
})}`
