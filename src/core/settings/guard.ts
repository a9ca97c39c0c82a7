/**
 * The check a change to a setting passes after the route's own: the caller must hold the
 * permission the setting declares. Shared by the API and the console.
 */
import { Effect } from "effect"
import { HttpServerRequest } from "effect/http"
import { Audit } from "../audit/audit.ts"
import { actorOf } from "../audit/entry.ts"
import { CurrentPrincipal, Forbidden } from "../auth/access.ts"
import { RequestInfo } from "../request-info.ts"
import type { DeclaredSetting } from "./declarations.ts"

/**
 * Refuses a caller without the setting's own permission: 403 naming it, with an `authz_denied`
 * audit entry like the route table's refusals. A failed audit write is logged, never a reason to allow.
 */
export const requireSettingPermission = (entry: DeclaredSetting) =>
  Effect.gen(function* () {
    const principal = yield* CurrentPrincipal
    const permission = entry.spec.permission
    if (principal.permissions.has(permission)) return
    const request = yield* HttpServerRequest.HttpServerRequest
    const info = yield* RequestInfo
    const path = request.url.split("?")[0] ?? "/"
    yield* (yield* Audit)
      .record({
        actor: actorOf(principal),
        action: "authz_denied",
        resourceType: "route",
        resourceId: `${request.method} ${info.route ?? path}`,
        outcome: "denied",
        reason: `missing permission ${permission} of setting ${entry.spec.key}`,
        details: {
          method: request.method,
          route: info.route ?? null,
          path: path.slice(0, 512),
          permission,
          setting: entry.spec.key
        }
      })
      .pipe(Effect.catchTag("AuditWriteFailed", (e) => Effect.logError("a denied request could not be audited", e)))
    return yield* new Forbidden({
      message: `changing the setting ${entry.spec.key} needs the permission ${permission}`,
      permission
    })
  })
