/**
 * Administration: the `/admin` landing page, linking to the administration pages the user may
 * open (users, settings, API keys, the audit log). The pages themselves live with their routes.
 */
import { Effect } from "effect"
import { CurrentPrincipal } from "../../core/auth/access.ts"
import type { Permission } from "../../core/auth/permissions.ts"
import { page } from "../../core/http/page.ts"
import type { RouteSpec } from "../../core/http/route.ts"
import type { CoreServices } from "../../core/module.ts"
import { type AdminLink, adminPage } from "./admin-page.ts"
import { userRoutes } from "./user-routes.ts"

/** The administration pages, each shown on the landing page to whoever holds its permission. */
const adminLinks: ReadonlyArray<AdminLink & { readonly permission: Permission }> = [
  {
    label: "Users",
    path: "/admin/users",
    description: "add users, change roles, disable users, end sessions, set new passwords",
    permission: "MANAGE_USERS"
  },
  {
    // Core's settings page: core is always installed, so the link never points nowhere.
    label: "Settings",
    path: "/admin/settings",
    description: "the runtime settings of every module, with their history",
    permission: "MANAGE_SYSTEM_CONFIG"
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
  ...userRoutes
]
