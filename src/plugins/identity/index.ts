/**
 * The identity module: sign-in and sign-out pages, the administration landing page, user
 * management, the first-run administrator, and the `identity.sweeper` fiber that deletes expired
 * sessions and old failed logins. Users, sessions, passwords and access control
 * themselves are core services (`src/core/auth/`), so every module can rely on them.
 */
import { Effect } from "effect"
import { Sessions } from "../../core/auth/sessions.ts"
import { defineModule } from "../../core/module.ts"
import { periodicFiber } from "../../core/supervisor.ts"
import { adminRoutes } from "./admin-routes.ts"
import { userCommand } from "./cli.ts"
import { ensureFirstAdmin } from "./first-run.ts"
import { loginRoutes } from "./login-routes.ts"

export const identityModule = defineModule({
  name: "identity",
  permissions: [
    {
      name: "MANAGE_USERS",
      description: "Add users, change roles, disable or enable users and end their sessions.",
      roles: []
    }
  ],
  onServe: ensureFirstAdmin,
  commands: [userCommand],
  fibers: [periodicFiber("identity.sweeper", "10 minutes", Effect.asVoid(Effect.flatMap(Sessions, (s) => s.sweep)))],
  routes: [...loginRoutes, ...adminRoutes],
  navigation: [
    { label: "Users", path: "/admin/users", permissions: ["MANAGE_USERS"], order: 900 },
    {
      label: "Admin",
      path: "/admin",
      permissions: ["MANAGE_API_KEYS", "MANAGE_SYSTEM_CONFIG", "VIEW_AUDIT"],
      order: 950
    }
  ]
})
