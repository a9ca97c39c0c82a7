/** The capabilities of this build, in the order they are installed. One line per module. */
import type { Module } from "./core/module.ts"
import { apiKeysModule } from "./plugins/api-keys/index.ts"
import { auditLogModule } from "./plugins/audit-log/index.ts"
import { circuitBreakerModule } from "./plugins/circuit-breaker/index.ts"
import { diagnosticsModule } from "./plugins/diagnostics/index.ts"
import { identityModule } from "./plugins/identity/index.ts"
import { systemModule } from "./plugins/system/index.ts"

export const modules: ReadonlyArray<Module> = [
  systemModule,
  auditLogModule,
  identityModule,
  apiKeysModule,
  circuitBreakerModule,
  diagnosticsModule
]
