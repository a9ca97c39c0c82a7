/**
 * Administration: the `/admin` landing page and user management under `/admin/users`. Every
 * change goes through the Users service, which audits it in the same transaction and ends the
 * user's sessions where rights are taken away. Every change needs a recent password: a stolen
 * session must not be able to lock out or promote anyone.
 */
import { Clock, Effect, Schema } from "effect"
import { HttpServerResponse } from "effect/http"
import { actorOf } from "../../core/audit/entry.ts"
import { CurrentPrincipal } from "../../core/auth/access.ts"
import type { Permission } from "../../core/auth/permissions.ts"
import { REAUTH_WINDOW_MINUTES, requireRecentAuthentication } from "../../core/auth/reauth.ts"
import { Role, roles } from "../../core/auth/roles.ts"
import { Users } from "../../core/auth/users.ts"
import { decodeForm, decodePath, decodeQuery } from "../../core/http/decode.ts"
import { page } from "../../core/http/page.ts"
import type { RouteSpec } from "../../core/http/route.ts"
import type { CoreServices } from "../../core/module.ts"
import { type AdminLink, adminPage } from "./admin-page.ts"
import { type UserNotice, userNotices, usersPage } from "./users-page.ts"

/** The administration pages, each shown on the landing page to whoever holds its permission. */
const adminLinks: ReadonlyArray<AdminLink & { readonly permission: Permission }> = [
  {
    label: "Users",
    path: "/admin/users",
    description: "roles, disabling, ending sessions",
    permission: "MANAGE_USERS"
  },
  {
    label: "API keys",
    path: "/admin/api-keys",
    description: "keys for scripts and services",
    permission: "MANAGE_API_KEYS"
  },
  {
    label: "Audit Log",
    path: "/audit",
    description: "who changed what, and every denied request",
    permission: "VIEW_AUDIT"
  }
]

const UserPath = Schema.Struct({ id: Schema.String.check(Schema.isUUID()) })
const UsersQuery = Schema.Struct({
  notice: Schema.optional(Schema.Literals(Object.keys(userNotices) as ReadonlyArray<UserNotice>)),
  reauth: Schema.optional(Schema.Literal("wrong"))
})
const Password = Schema.optional(Schema.String.check(Schema.isMaxLength(256)))
const RoleForm = Schema.Struct({ role: Role, password: Password })
const ActionForm = Schema.Struct({ password: Password })

const backToUsers = (notice: UserNotice) =>
  HttpServerResponse.redirect(`/admin/users?notice=${notice}`, { status: 303 })

/** A one-click change to the user named in the path, audited as the current principal. */
const userAction = (
  action: "disable" | "enable" | "end-sessions",
  summary: string,
  run: (users: Users["Service"], id: string, principal: CurrentPrincipal["Service"]) => Effect.Effect<unknown, unknown>,
  notice: UserNotice
): RouteSpec<CoreServices> => ({
  method: "POST",
  path: `/admin/users/:id/${action}`,
  access: "MANAGE_USERS",
  summary,
  handler: Effect.gen(function* () {
    const { id } = yield* decodePath(UserPath)
    const form = yield* decodeForm(ActionForm)
    yield* requireRecentAuthentication(form.password)
    yield* run(yield* Users, id, yield* CurrentPrincipal)
    return backToUsers(notice)
  })
})

export const adminRoutes: ReadonlyArray<RouteSpec<CoreServices>> = [
  {
    method: "GET",
    path: "/admin",
    // Every role that holds any administration permission holds VIEW_AUDIT (a unit test keeps it so).
    access: "VIEW_AUDIT",
    summary: "Administration: links to the pages the user may open.",
    handler: Effect.gen(function* () {
      const principal = yield* CurrentPrincipal
      return yield* page("Administration", adminPage(adminLinks.filter((l) => principal.permissions.has(l.permission))))
    })
  },
  {
    method: "GET",
    path: "/admin/users",
    access: "MANAGE_USERS",
    summary: "Users: roles, state and last activity, with the forms to change them.",
    handler: Effect.gen(function* () {
      const principal = yield* CurrentPrincipal
      const { notice, reauth } = yield* decodeQuery(UsersQuery)
      const list = yield* (yield* Users).list
      const now = yield* Clock.currentTimeMillis
      const authenticatedAt = principal.session?.authenticatedAt.getTime() ?? now
      return yield* page(
        "Users",
        usersPage({
          users: list,
          roles,
          notice,
          csrfToken: principal.session?.csrfToken ?? "",
          currentUserId: principal.id,
          passwordNeeded: now - authenticatedAt >= REAUTH_WINDOW_MINUTES * 60_000,
          reauthWrong: reauth === "wrong"
        })
      )
    })
  },
  {
    method: "POST",
    path: "/admin/users/:id/role",
    access: "MANAGE_USERS",
    summary: "Changes a user's role (needs a recent password); ends the user's sessions.",
    handler: Effect.gen(function* () {
      const { id } = yield* decodePath(UserPath)
      const form = yield* decodeForm(RoleForm)
      yield* requireRecentAuthentication(form.password)
      yield* (yield* Users).setRole(id, form.role, actorOf(yield* CurrentPrincipal))
      return backToUsers("role_changed")
    })
  },
  userAction(
    "disable",
    "Disables a user and ends their sessions.",
    (users, id, principal) => users.setDisabled(id, true, actorOf(principal)),
    "disabled"
  ),
  userAction(
    "enable",
    "Enables a disabled user.",
    (users, id, principal) => users.setDisabled(id, false, actorOf(principal)),
    "enabled"
  ),
  userAction(
    "end-sessions",
    "Ends every session of a user at once.",
    (users, id, principal) => users.endSessions(id, actorOf(principal)),
    "sessions_ended"
  )
]
