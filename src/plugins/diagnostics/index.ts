/**
 * The diagnostics module: CPU profiles and heap snapshots of the running process for
 * administrators (`PROFILE_SYSTEM`), on the console's Diagnostics page and the JSON API, each
 * capture audited, one at a time. The service and its reasons: service.ts.
 */
import { defineModule } from "../../core/module.ts"
import { diagnosticsRoutes, PERMISSION } from "./routes.ts"
import { Diagnostics } from "./service.ts"

export const diagnosticsModule = defineModule({
  name: "diagnostics",
  layer: Diagnostics.layer,
  permissions: [
    {
      name: PERMISSION,
      description:
        "Capture CPU profiles and heap snapshots of the running process (a heap snapshot holds every secret in memory).",
      roles: []
    }
  ],
  routes: diagnosticsRoutes,
  navigation: [{ label: "Diagnostics", path: "/admin/diagnostics", permissions: [PERMISSION], order: 960 }]
})
